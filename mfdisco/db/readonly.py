"""Read-only SQL for users: ``mfdisco query "SELECT ..."`` and ``mfdisco query --view NAME``.

Two guards, so that a query can never change the database:
    1. the statement must be one statement starting with SELECT, WITH, VALUES or
       EXPLAIN (a write is refused with a message before anything runs);
    2. the database itself enforces read-only: SQLite opens the file with
       ``mode=ro`` and ``PRAGMA query_only``, PostgreSQL runs the query in a
       ``READ ONLY`` transaction. This catches what the first guard cannot see, such
       as ``WITH x AS (DELETE ... RETURNING *) SELECT ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from mfdisco.core import MfdiscoError
from mfdisco.db.engine import normalise_url, sqlite_path
from mfdisco.db.views import VIEWS

__all__ = ["ReadOnlyViolation", "QueryError", "QueryResult", "check_read_only", "run_read_only", "query_view"]

_ALLOWED_FIRST_WORDS = ("SELECT", "WITH", "VALUES", "EXPLAIN")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


class ReadOnlyViolation(MfdiscoError):
    """A statement that would write (or is not a single query) was refused."""


class QueryError(MfdiscoError):
    """The database rejected a query (syntax error, unknown table...)."""


@dataclass
class QueryResult:
    """Rows of a read-only query.

    Attributes:
        columns: column names.
        rows: at most ``max_rows`` rows.
        truncated: True when the query returned more rows than were kept.
    """

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False


def check_read_only(sql: str) -> str:
    """Return the statement without comments and trailing semicolons, if it is one read-only query.

    Raises:
        ReadOnlyViolation: an empty statement, several statements, or one that does
            not start with SELECT, WITH, VALUES or EXPLAIN (the message names it).
    """
    stripped = _COMMENT.sub(" ", sql).strip().rstrip(";").strip()
    if not stripped:
        raise ReadOnlyViolation("empty query")
    if ";" in _QUOTED.sub("''", stripped):
        raise ReadOnlyViolation("several statements in one query; run one read-only statement at a time")
    first = stripped.split(None, 1)[0].upper()
    if first not in _ALLOWED_FIRST_WORDS:
        raise ReadOnlyViolation(
            f"refused: {first} is not a read-only statement; mfdisco query runs only "
            f"{', '.join(_ALLOWED_FIRST_WORDS)} statements"
        )
    return stripped


def _read_only_engine(url: URL) -> Engine:
    """An engine whose connections cannot write."""
    if url.get_backend_name() == "postgresql":
        return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
    path = sqlite_path(url)
    if path is None:
        raise QueryError("read-only queries need a database file or server; an in-memory SQLite database has no tables")
    if not path.is_file():
        raise QueryError(f"database file {path} does not exist; create it with `mfdisco db upgrade`")
    engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")

    @event.listens_for(engine, "connect")
    def _query_only(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
        dbapi_connection.execute("PRAGMA query_only = ON")

    return engine


def run_read_only(url: str | URL, sql: str, params: dict[str, Any] | None = None, max_rows: int = 1000) -> QueryResult:
    """Run one read-only statement against the database at ``url``.

    Args:
        url: the database URL (the same as the campaign's).
        sql: the statement (see :func:`check_read_only`).
        params: bound parameters for ``:name`` placeholders.
        max_rows: keep at most this many rows.

    Raises:
        ReadOnlyViolation: the statement would write; nothing ran or nothing changed.
        QueryError: the database rejected the statement, with its message.
    """
    statement = check_read_only(sql)
    engine = _read_only_engine(normalise_url(str(url)) if isinstance(url, str) else url)
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement), params or {})
            columns = list(result.keys())
            rows = [tuple(row) for row in result.fetchmany(max_rows + 1)] if result.returns_rows else []
            connection.rollback()
    except DBAPIError as error:
        message = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if "read-only" in message or "readonly" in message or "query_only" in message:
            raise ReadOnlyViolation(f"refused by the database's read-only mode: {message}") from None
        raise QueryError(f"the database rejected the query: {message}") from None
    finally:
        engine.dispose()
    return QueryResult(columns, rows[:max_rows], truncated=len(rows) > max_rows)


def query_view(url: str | URL, view: str, max_rows: int = 1000) -> QueryResult:
    """All rows of one of mfdisco's views (see :data:`mfdisco.db.views.VIEWS`).

    Raises:
        QueryError: ``view`` is not one of the views (the message lists them).
    """
    if view not in VIEWS:
        raise QueryError(f"unknown view {view!r}; the views are: {', '.join(VIEWS)}")
    return run_read_only(url, f"SELECT * FROM {view}", max_rows=max_rows)
