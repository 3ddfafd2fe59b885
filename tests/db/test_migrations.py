"""Migrations: upgrade and downgrade on SQLite and PostgreSQL; the models match the migrations."""

from __future__ import annotations

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
