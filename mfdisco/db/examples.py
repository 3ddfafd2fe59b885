"""The example queries users start from (``mfdisco query --example NAME``), read from ``queries.sql``.

The file is plain SQL that any client can run; each query starts with ``-- name: NAME``
and a comment line saying what it shows, and ends with a semicolon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

__all__ = ["ExampleQuery", "example_queries"]


@dataclass(frozen=True)
class ExampleQuery:
    """A named, read-only example query."""

    name: str
    description: str
    sql: str


@lru_cache(maxsize=1)
def example_queries() -> dict[str, ExampleQuery]:
    """Name → example query, in the file's order."""
    text = (files("mfdisco.db") / "queries.sql").read_text(encoding="utf-8")
    found: dict[str, ExampleQuery] = {}
    for block in re.split(r"^-- name: ", text, flags=re.MULTILINE)[1:]:
        name, rest = block.split("\n", 1)
        lines = rest.strip().splitlines()
        description = lines[0].removeprefix("--").strip()
        sql = "\n".join(lines[1:]).strip().rstrip(";").strip()
        found[name.strip()] = ExampleQuery(name.strip(), description, sql)
    return found
