"""The SQL views users read, with what each row means."""

from __future__ import annotations

__all__ = ["VIEWS"]

#: View name -> one-line description (the SQL lives in the migrations).
VIEWS: dict[str, str] = {
    "discovered_candidates": (
        "selected, novel candidates whose CCSD(T) energy above the hull is at or below the campaign's "
        "threshold (default 0.1 eV/atom), with formula, scores, hull distances per fidelity, cycle and "
        "whether PBE called them unstable (pbe_wrong_call)"
    ),
    "campaign_summary": (
        "one row per campaign: cycles, candidates, selected, labels done/failed/pending, CCSD(T) labels, "
        "discoveries, hit rate and discoveries per CCSD(T) calculation"
    ),
}
