"""The mfdisco command line, run in-process against SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mfdisco import __version__
from mfdisco.core import write_crystal
from mfdisco.platform.cli import app

runner = CliRunner()


@pytest.fixture
def db_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MFDISCO_DB_URL", raising=False)
    monkeypatch.delenv("MFDISCO_CONFIG", raising=False)
    return ["--db-url", f"sqlite:///{tmp_path / 'cli.db'}"]


def _run(args: list[str]):  # noqa: ANN202 - click Result
    return runner.invoke(app, args, catch_exceptions=False)


def test_version() -> None:
    result = _run(["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_db_upgrade_and_current(db_option: list[str]) -> None:
    assert "at revision 0003" in _run([*db_option, "db", "upgrade"]).stdout
    assert "revision 0003" in _run([*db_option, "db", "current"]).stdout
    assert "at revision base" in _run([*db_option, "db", "downgrade", "base"]).stdout


def test_import_builtin_then_query(db_option: list[str]) -> None:
    first = _run([*db_option, "data", "import", "--builtin"])
    assert first.exit_code == 0, first.output
    assert "114" in first.stdout
    again = _run([*db_option, "data", "import", "--builtin"])
    assert "│  114 │   0 │        114 │" in again.stdout
    result = _run([*db_option, "query", "SELECT formula FROM structures WHERE source_id = 'perovskite:SrTiO3'", "-o", "json"])
    assert json.loads(result.stdout) == [{"formula": "SrTiO3"}]
    csv_out = _run([*db_option, "query", "SELECT COUNT(*) AS n FROM structures", "-o", "csv"]).stdout
    assert csv_out.splitlines() == ["n", "114"]


def test_query_refuses_writes_and_explains_views(db_option: list[str]) -> None:
    _run([*db_option, "db", "upgrade"])
    refused = runner.invoke(app, [*db_option, "query", "DELETE FROM structures"])
    assert refused.exit_code == 1 and "refused: DELETE" in refused.output
    neither = runner.invoke(app, [*db_option, "query"])
    assert neither.exit_code == 2 and "discovered_candidates" in neither.output
    assert _run([*db_option, "query", "--view", "campaign_summary"]).exit_code == 0


def test_import_folder_reports_rejections(db_option: list[str], tmp_path: Path, rocksalt_mgo) -> None:  # noqa: ANN001
    folder = tmp_path / "in"
    folder.mkdir()
    write_crystal(rocksalt_mgo, folder / "good.cif")
    (folder / "bad.cif").write_text("data_bad\n")
    result = _run([*db_option, "data", "import", str(folder)])
    assert result.exit_code == 0
    assert "rejected 1 x malformed CIF" in result.stdout and "bad.cif" in result.stdout


def test_bad_inputs_exit_with_a_message(db_option: list[str], tmp_path: Path) -> None:
    missing = runner.invoke(app, [*db_option, "data", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code == 1 and "none.csv" in missing.output
    both = runner.invoke(app, [*db_option, "data", "import", "x.csv", "--builtin"])
    assert both.exit_code == 2
    bad_url = runner.invoke(app, ["--db-url", "nonsense", "db", "upgrade"])
    assert bad_url.exit_code == 1 and "db.url" in bad_url.output


def test_run_refuses_bad_options_before_starting_anything(db_option: list[str]) -> None:
    both = runner.invoke(app, [*db_option, "run", "--name", "a", "--resume", "b"])
    assert both.exit_code == 2 and "either --name" in both.output
    zero = runner.invoke(app, [*db_option, "run", "--cycles", "0"])
    assert zero.exit_code == 2 and "--cycles" in zero.output
    missing = runner.invoke(app, [*db_option, "run", "--resume", "nowhere"])
    assert missing.exit_code == 1 and "no campaign named 'nowhere'" in missing.output
    status = runner.invoke(app, [*db_option, "status"])
    assert status.exit_code == 0 and "no campaign yet" in status.output


def test_query_refuses_writes_on_both_databases(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MFDISCO_CONFIG", raising=False)
    db = ["--db-url", db_url]
    assert _run([*db, "data", "import", "--builtin"]).exit_code == 0
    for sql in ("DELETE FROM structures", "DROP TABLE structures", "WITH x AS (DELETE FROM structures RETURNING id) SELECT * FROM x"):
        refused = runner.invoke(app, [*db, "query", sql])
        # refused before running, or by the read-only connection (SQLite cannot even parse DML in a CTE)
        assert refused.exit_code == 1 and ("refused" in refused.output or "rejected" in refused.output), (sql, refused.output)
    assert _run([*db, "query", "SELECT COUNT(*) AS n FROM structures", "-o", "csv"]).stdout.splitlines() == ["n", "114"]
    assert _run([*db, "query", "--example", "campaign_progress"]).exit_code == 0
