"""Failure signatures of a cycle, logged and stored with it (pure functions).

- ``metallicity_trap``: the generator's novelty (share of valid samples that are new) is
  below the warning level (default 70 %): it keeps proposing what is known, typically
  close-packed metals.
- ``validator_overconfidence``: a labelled candidate of high predicted divergence (above
  the cycle's median D) whose CCSD(T) stability call was wrong (predicted E_hull on the
  other side of the hit threshold than the label's) with an error beyond 2σ of the ensemble.
  The predicted E_hull is the labelled one shifted by the prediction's formation-energy error.
- ``stagnation``: the last ``window`` cycles found nothing while CCSD(T) budget remains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["LabelledCandidate", "cycle_signatures"]


@dataclass(frozen=True)
class LabelledCandidate:
    """A selected candidate after labelling (eV/atom): predicted and labelled CCSD(T) values."""

    divergence: float
    pred_ef_ccsd_t: float
    std_ccsd_t: float
    ef_ccsd_t: float
    e_hull_ccsd_t: float


def cycle_signatures(
    novelty: float,
    labelled: Sequence[LabelledCandidate],
    all_divergences: Sequence[float],
    discoveries_per_cycle: Sequence[int],
    budget_left: int,
    hit_threshold: float = 0.1,
    novelty_warning: float = 0.7,
    window: int = 2,
) -> list[dict[str, object]]:
    """The signatures that fire for one cycle, each ``{"name", "detail"}``."""
    found: list[dict[str, object]] = []
    if novelty < novelty_warning:
        found.append({"name": "metallicity_trap", "detail": f"novelty {novelty:.0%} < {novelty_warning:.0%}"})
    median = float(np.median(all_divergences)) if len(all_divergences) else 0.0
    for item in labelled:
        error = item.pred_ef_ccsd_t - item.ef_ccsd_t
        predicted_hull = item.e_hull_ccsd_t + error
        wrong_call = (predicted_hull <= hit_threshold) != (item.e_hull_ccsd_t <= hit_threshold)
        if item.divergence > median and wrong_call and abs(error) > 2 * item.std_ccsd_t:
            found.append({
                "name": "validator_overconfidence",
                "detail": f"D {item.divergence:.3f} eV/atom, CCSD(T) error {error:+.3f} eV/atom vs 2σ {2 * item.std_ccsd_t:.3f}",
            })
            break
    recent = list(discoveries_per_cycle[-window:])
    if len(recent) == window and not any(recent) and budget_left > 0:
        found.append({"name": "stagnation", "detail": f"no discovery in {window} cycles with {budget_left} CCSD(T) calculations left"})
    return found
