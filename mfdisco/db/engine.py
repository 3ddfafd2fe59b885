"""Database engines and sessions for SQLite (default) and PostgreSQL.

SQLite admits one writer at a time. Every connection runs in WAL mode (readers never
block the writer) with a busy timeout (a writer waits for the lock instead of failing)
and foreign keys on. Write transactions start with ``BEGIN IMMEDIATE`` so that they
take the write lock up front: a deferred transaction that reads first and writes later
would fail at once with "database is locked" when another process wrote in between,
whatever the busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from mfdisco.core import MfdiscoError

__all__ = [
    "DatabaseURLError",
    "DEFAULT_DB_URL",
    "normalise_url",
    "make_engine",
    "write_session",
    "read_session",
    "sqlite_path",
]

DEFAULT_DB_URL = "sqlite:///mfdisco.db"
WRITE_OPTION = "mfdisco_write"  # execution option: begin with BEGIN IMMEDIATE on SQLite


class DatabaseURLError(MfdiscoError, ValueError):
    """A database URL that mfdisco cannot use."""


def normalise_url(url: str) -> URL:
    """Parse a database URL; PostgreSQL URLs get the psycopg 3 driver.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``.

    Raises:
        DatabaseURLError: naming the URL and what is wrong with it.
    """
    text = str(url).strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise DatabaseURLError(
            f"database URL {url!r} is not a URL; expected e.g. sqlite:///mfdisco.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise DatabaseURLError(f"database URL {url!r}: backend {parsed.get_backend_name()!r} is not supported (sqlite or postgresql)")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: str | URL = DEFAULT_DB_URL, *, busy_timeout_s: float = 30.0, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with mfdisco's connection settings.

    SQLite: WAL journal, ``busy_timeout``, foreign keys, ``synchronous=NORMAL``; the
    parent folder of the file is created. PostgreSQL: pre-ping pooled connections.
    """
    parsed = normalise_url(str(url)) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, echo=echo)
    path = sqlite_path(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo, connect_args={"timeout": busy_timeout_s})
    timeout_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
        dbapi_connection.isolation_level = None  # transactions are begun below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            _enter_wal_mode(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enter_wal_mode(cursor: sqlite3.Cursor, timeout_s: float) -> None:
    """Put the SQLite file in WAL mode, waiting up to ``timeout_s`` for other connections.

    Switching the journal mode of a file needs it to itself, and SQLite answers "database
    is locked" at once, without its busy handler, when another process is creating or
    switching the same new file. WAL mode persists in the file, so the first connection
    that succeeds does it for all; the others retry until then.
    """
    deadline = time.monotonic() + timeout_s
    delay_s = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay_s)
            delay_s = min(2 * delay_s, 0.2)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session in one write transaction: committed on success, rolled back on error.

    On SQLite the transaction takes the write lock at its start (``BEGIN IMMEDIATE``).
    """
    with Session(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; nothing is committed."""
    with Session(engine) as session:
        yield session
