"""Campaign state rows: cycles, candidates (one transaction), hull distances, the discovery view."""

from __future__ import annotations

import pytest

from mfdisco.core import Fidelity
from mfdisco.db import (
    CampaignError,
    CandidateRecord,
    create_campaign,
    cycle_discoveries,
    cycles_of,
    find_campaign,
    open_cycle,
    query_view,
    replace_hull_distances,
    selected_structures,
    store_candidates,
    update_cycle,
)
from mfdisco.generator.datasets.prototypes import rocksalt


def _record(bond: float, selected: bool, rank: int) -> CandidateRecord:
    return CandidateRecord(rocksalt("Mg", "O", bond), {"pbe": {"mean": -1.0, "std": 0.1}}, -2.0, -2.3, 0.05, 0.3, 0.2, 0.8, rank, selected)


def test_campaign_cycle_candidates_and_discovery_view(engine, db_url: str) -> None:  # noqa: ANN001
    campaign_id = create_campaign(engine, "test", {"campaign": {}}, 0.1)
    with pytest.raises(CampaignError, match="exists"):
        create_campaign(engine, "test", {}, 0.1)
    assert find_campaign(engine, "test").id == campaign_id
    cycle = open_cycle(engine, campaign_id, 1)
    assert open_cycle(engine, campaign_id, 1).id == cycle.id  # idempotent
    ids = store_candidates(engine, campaign_id, cycle.id, [_record(2.1, True, 1), _record(2.3, False, 2)], {"n_generated": 5, "n_selected": 1})
    # a retried step replaces the cycle's candidates instead of doubling them
    ids_again = store_candidates(engine, campaign_id, cycle.id, [_record(2.1, True, 1), _record(2.3, False, 2)], {"n_generated": 5, "n_selected": 1})
    assert ids == ids_again
    (row,) = cycles_of(engine, campaign_id)
    assert row.status == "selected" and row.n_generated == 5
    assert [sid for sid, _ in selected_structures(engine, cycle.id)] == [ids[0]]
    replace_hull_distances(engine, campaign_id, cycle.id, Fidelity.CCSD_T, "h", {ids[0]: (-2.2, 0.05), ids[1]: (-2.0, 0.3)})
    replace_hull_distances(engine, campaign_id, cycle.id, Fidelity.PBE, "h", {ids[0]: (-1.9, 0.2)})
    assert cycle_discoveries(engine, campaign_id, 0.1) == {1: [ids[0]]}
    view = query_view(db_url, "discovered_candidates")
    rows = [dict(zip(view.columns, r, strict=True)) for r in view.rows]
    assert len(rows) == 1 and rows[0]["structure_id"] == ids[0] and bool(rows[0]["pbe_wrong_call"]) is True
    update_cycle(engine, cycle.id, status="finished", n_discoveries=1)
    assert cycles_of(engine, campaign_id)[0].finished_at is not None
    with pytest.raises(ValueError, match="status"):
        update_cycle(engine, cycle.id, status="exploded")
