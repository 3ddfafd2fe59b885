"""Alembic environment of mfdisco; run through :mod:`mfdisco.db.migrate`, not the alembic CLI."""

from __future__ import annotations

from alembic import context

from mfdisco.db.engine import make_engine
from mfdisco.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the connection given by the caller, or on a new engine for the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things, so autogenerate writes batch operations; but a batch
        # rebuilds the table, which breaks the views that read it. Adding or dropping a
        # column needs no batch on SQLite >= 3.35: write plain op.add_column/op.drop_column
        # there (see 0002), and drop and recreate the views around a real rebuild.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("mfdisco migrations run online only (mfdisco db upgrade)")
run_migrations_online()
