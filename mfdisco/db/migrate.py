"""Schema migrations (Alembic, shipped in the package): upgrade, downgrade, current revision."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from mfdisco.db.engine import WRITE_OPTION

__all__ = ["alembic_config", "upgrade", "downgrade", "current_revision", "head_revision"]


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic config pointing at the packaged migrations (and at ``engine`` when given)."""
    config = Config()
    config.set_main_option("script_location", str(files("mfdisco.db") / "migrations"))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def _run(engine: Engine, action, revision: str) -> None:  # noqa: ANN001 - alembic command
    """Run an Alembic command in one write transaction.

    On SQLite the transaction takes the write lock at its start (``BEGIN IMMEDIATE``):
    Alembic reads the current revision before it writes, and a deferred transaction that
    another process wrote under in between (two processes opening a new database at
    once) fails with "database is locked" whatever the busy timeout. With the lock taken
    up front the second process waits, then finds the schema at head and does nothing.
    """
    config = alembic_config(engine)
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (default: the newest)."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to ``revision`` (``"base"`` drops every mfdisco table and view)."""
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of mfdisco."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migration"
    return head
