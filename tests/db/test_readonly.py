"""Read-only queries: reads run, writes are refused before running or by the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from mfdisco.core import Crystal
from mfdisco.db import (
    NewStructure,
    QueryError,
    ReadOnlyViolation,
    add_structures,
    check_read_only,
    count_structures,
    query_view,
    run_read_only,
)


@pytest.fixture
def stored(engine: Engine, rocksalt_mgo: Crystal, low_symmetry: Crystal) -> Engine:
    add_structures(engine, [NewStructure(rocksalt_mgo, "t", "mgo"), NewStructure(low_symmetry, "t", "p1")])
    return engine


def test_select_with_parameters(stored: Engine, db_url: str) -> None:
    result = run_read_only(db_url, "SELECT formula, nsites FROM structures WHERE nsites > :n ORDER BY formula", {"n": 1})
    assert result.columns == ["formula", "nsites"]
    assert result.rows == [("Mg2Mn2O3", 7), ("MgO", 8)]  # the cell as given, not reduced
    assert run_read_only(db_url, "SELECT id FROM structures", max_rows=1).truncated


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM structures",
        "  delete from structures;",
        "UPDATE structures SET formula = 'x'",
        "DROP TABLE structures",
        "INSERT INTO campaigns (name) VALUES ('x')",
        "SELECT 1; DELETE FROM structures",
        "/* hidden */ DELETE FROM structures",
        "PRAGMA query_only = OFF",
    ],
)
def test_writes_are_refused_before_running(stored: Engine, db_url: str, sql: str) -> None:
    with pytest.raises(ReadOnlyViolation):
        run_read_only(db_url, sql)
    assert count_structures(stored) == 2


def test_a_write_hidden_in_a_cte_is_refused_by_the_database(stored: Engine, db_url: str) -> None:
    sql = (
        "WITH gone AS (DELETE FROM structures RETURNING id) SELECT count(*) FROM gone"
        if db_url.startswith("postgresql")
        else "WITH x AS (SELECT 1) DELETE FROM structures"
    )
    with pytest.raises(ReadOnlyViolation, match="read-only mode"):
        run_read_only(db_url, sql)
    assert count_structures(stored) == 2


def test_semicolon_inside_a_string_is_fine() -> None:
    assert check_read_only("SELECT 'a;b' AS x;") == "SELECT 'a;b' AS x"


def test_views_and_errors(stored: Engine, db_url: str) -> None:
    assert query_view(db_url, "campaign_summary").rows == []
    assert "e_hull_ccsd_t_ev_per_atom" in query_view(db_url, "discovered_candidates").columns
    with pytest.raises(QueryError, match="unknown view 'nope'"):
        query_view(db_url, "nope")
    with pytest.raises(QueryError, match="rejected the query"):
        run_read_only(db_url, "SELECT * FROM no_such_table")


def test_missing_sqlite_file_is_named(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(QueryError, match="does not exist"):
        run_read_only(f"sqlite:///{tmp_path / 'none.db'}", "SELECT 1")
    assert not (tmp_path / "none.db").exists()
