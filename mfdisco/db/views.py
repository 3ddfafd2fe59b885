"""The SQL views users read, with what each row means."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from mfdisco.db.engine import read_session

__all__ = ["VIEWS", "discoveries_of", "campaign_summary_of"]

#: View name -> one-line description (the SQL lives in the migrations).
VIEWS: dict[str, str] = {
    "discovered_candidates": (
        "selected, novel candidates whose CCSD(T) energy above the hull is at or below the campaign's "
        "threshold (default 0.1 eV/atom), with formula, scores, hull distances per fidelity, cycle and "
        "whether PBE called them unstable (pbe_wrong_call)"
    ),
    "campaign_summary": (
        "one row per campaign: cycles, the last cycle's step, candidates, selected, labels pending/running/done/"
        "failed (failed or refused), CCSD(T) labels, "
        "discoveries, hit rate and discoveries per CCSD(T) calculation"
    ),
}


def discoveries_of(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's rows of the ``discovered_candidates`` view, by cycle and rank."""
    statement = text("SELECT * FROM discovered_candidates WHERE campaign_id = :campaign ORDER BY cycle, rank")
    with read_session(engine) as session:
        return [dict(row) for row in session.execute(statement, {"campaign": campaign_id}).mappings()]


def campaign_summary_of(engine: Engine, campaign_id: int) -> dict[str, Any]:
    """The campaign's row of the ``campaign_summary`` view (empty when there is none; ratios as floats)."""
    statement = text("SELECT * FROM campaign_summary WHERE campaign_id = :campaign")
    with read_session(engine) as session:
        row = session.execute(statement, {"campaign": campaign_id}).mappings().one_or_none()
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} if row is not None else {}
