"""The example queries: each runs read-only on SQLite and PostgreSQL and answers its documented columns."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import (
    CandidateRecord,
    NewStructure,
    add_structures,
    create_campaign,
    open_cycle,
    record_label,
    replace_hull_distances,
    run_read_only,
    store_candidates,
)
from mfdisco.db.examples import example_queries
from mfdisco.generator.datasets.prototypes import rocksalt

EXPECTED_FIRST_COLUMNS = {
    "discoveries_by_formula": ["formula", "discoveries"],
    "pbe_vs_ccsd_t": ["formula", "structure_id", "campaign", "ef_pbe", "ef_ccsd_t", "abs_difference"],
    "label_failures": ["fidelity", "status", "reason", "labels"],
    "campaign_progress": ["campaign", "cycle", "step", "mode"],
    "labels_by_fidelity": ["fidelity", "status", "labels", "mean_wall_time_s"],
}


@pytest.fixture
def campaign(engine: Engine, rocksalt_mgo: Crystal) -> Engine:
    campaign_id = create_campaign(engine, "c1", {"campaign": {}}, 0.1)
    cycle = open_cycle(engine, campaign_id, 1)
    record = CandidateRecord(rocksalt("Mg", "O", 2.1), {"pbe": {"mean": -1.0}}, -2.0, -2.3, 0.05, 0.3, 0.2, 0.8, 1, True)
    (sid,) = store_candidates(engine, campaign_id, cycle.id, [record], {"n_generated": 3, "n_selected": 1})
    replace_hull_distances(engine, campaign_id, cycle.id, Fidelity.CCSD_T, "h", {sid: (-2.4, 0.0)})
    replace_hull_distances(engine, campaign_id, cycle.id, Fidelity.PBE, "h", {sid: (-2.0, 0.3)})
    (other,) = add_structures(engine, [NewStructure(rocksalt_mgo, "t", "mgo")]).ids
    record_label(engine, other, Label(Fidelity.CCSD_T, {}, "h", "failed", error="CCSD not converged", wall_time_s=12.0), campaign_id=campaign_id)
    record_label(engine, other, Label(Fidelity.PBE, {}, "h", "done", energy_ev=-5.0, energy_per_atom_ev=-0.6, wall_time_s=30.0), campaign_id=campaign_id)
    return engine


def test_every_example_is_documented_and_tested() -> None:
    queries = example_queries()
    assert list(queries) == list(EXPECTED_FIRST_COLUMNS)
    assert all(q.description and q.sql.upper().startswith("SELECT") for q in queries.values())


@pytest.mark.parametrize("name", list(EXPECTED_FIRST_COLUMNS))
def test_example_runs_on_both_databases(campaign: Engine, db_url: str, name: str) -> None:
    result = run_read_only(db_url, example_queries()[name].sql)
    assert result.columns[: len(EXPECTED_FIRST_COLUMNS[name])] == EXPECTED_FIRST_COLUMNS[name]
    assert result.rows, f"{name} found nothing in a database that has rows for it"
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    if name == "discoveries_by_formula":
        assert rows == [rows[0]] and rows[0]["formula"] == "MgO" and rows[0]["pbe_wrong_calls"] == 1
    if name == "pbe_vs_ccsd_t":
        assert rows[0]["abs_difference"] == pytest.approx(0.4)
    if name == "label_failures":
        assert rows == [{"fidelity": "ccsd_t", "status": "failed", "reason": "CCSD not converged", "labels": 1}]
