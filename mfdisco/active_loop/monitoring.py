"""The campaign's custom Ray metrics (``ray.util.metrics``), shown by the Ray dashboard's metrics view.

Gauges, tagged with the campaign name: ``mfdisco_cycle``, ``mfdisco_candidates`` (of the
current cycle), ``mfdisco_labels_done``, ``mfdisco_labels_failed``, ``mfdisco_discoveries``,
``mfdisco_hit_rate`` (discoveries per selected candidate) and
``mfdisco_max_divergence_ev_per_atom``. Ray exports them to Prometheus from the
process that sets them; the dashboard's Grafana panels read them from there.
"""

from __future__ import annotations

__all__ = ["CampaignMetrics", "METRIC_NAMES"]

METRIC_NAMES: dict[str, str] = {
    "cycle": "current cycle number",
    "candidates": "candidates generated in the current cycle",
    "labels_done": "labels done in the campaign",
    "labels_failed": "labels failed or refused in the campaign",
    "discoveries": "discoveries so far (E_hull(ccsd_t) <= threshold)",
    "hit_rate": "discoveries per selected candidate",
    "max_divergence_ev_per_atom": "largest predicted divergence of the current cycle (eV/atom)",
}


class CampaignMetrics:
    """Ray gauges of one campaign (Ray must be initialised)."""

    def __init__(self, campaign: str) -> None:
        from ray.util.metrics import Gauge

        self.tags = {"campaign": campaign}
        self.gauges = {name: Gauge(f"mfdisco_{name}", description=about, tag_keys=("campaign",)) for name, about in METRIC_NAMES.items()}

    def update(self, **values: float | None) -> None:
        """Set the named gauges (unknown names raise KeyError; None values are skipped)."""
        for name, value in values.items():
            if value is not None:
                self.gauges[name].set(float(value), tags=self.tags)
