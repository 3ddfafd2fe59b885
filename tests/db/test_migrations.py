"""Migrations: upgrade and downgrade on SQLite and PostgreSQL; the models match the migrations."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mfdisco.db import VIEWS, Base, current_revision, downgrade, head_revision, make_engine, upgrade

TABLES = {"campaigns", "cycles", "structures", "calculations", "candidates", "hull_distances", "models"}


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    inspector = inspect(engine)
    assert TABLES <= set(inspector.get_table_names())
    assert set(VIEWS) <= set(inspector.get_view_names())
    downgrade(engine, "base")
    inspector = inspect(engine)
    assert current_revision(engine) is None
    assert not TABLES & set(inspector.get_table_names())
    assert not set(inspector.get_view_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


_UPGRADE_AT_ONCE = """
import sys, time
from mfdisco.db import make_engine, upgrade
start = float(sys.argv[2])
while time.time() < start:  # every process starts its upgrade at the same instant
    time.sleep(0.001)
upgrade(make_engine(sys.argv[1]))
"""


def test_processes_opening_one_new_sqlite_file_at_once_all_upgrade_it(tmp_path: Path) -> None:
    """Alembic reads the revision, then writes: without the write lock up front the loser fails."""
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'race{attempt}.db'}"
        start = time.time() + 4.0  # after the interpreters have imported mfdisco
        processes = [subprocess.Popen([sys.executable, "-c", _UPGRADE_AT_ONCE, url, str(start)], stderr=subprocess.PIPE, text=True) for _ in range(4)]
        errors = [process.communicate(timeout=120)[1] for process in processes]
        assert all(process.returncode == 0 for process in processes), "\n".join(errors)[-3000:]
        assert current_revision(make_engine(url)) == head_revision()
