"""Storing and reading structures: idempotent batch inserts keyed on the canonical hash."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mfdisco.core import HASH_VERSION, Crystal
from mfdisco.db.engine import read_session, write_session
from mfdisco.db.models import Structure

__all__ = [
    "NewStructure",
    "AddResult",
    "add_structures",
    "add_structures_in",
    "structure_to_crystal",
    "get_structure",
    "count_structures",
    "structure_counts",
]


@dataclass(frozen=True)
class NewStructure:
    """A structure to store, with its provenance.

    Attributes:
        crystal: the structure.
        source: where it came from (a dataset name, ``"generator"``...).
        source_id: its identifier in that source.
        properties: scalar properties (non-finite numbers are stored as null).
        parent_id: id of the structure it was derived from, if any.
        campaign_id, cycle_id: the campaign and cycle that produced it, if any.
    """

    crystal: Crystal
    source: str
    source_id: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    parent_id: int | None = None
    campaign_id: int | None = None
    cycle_id: int | None = None


@dataclass
class AddResult:
    """Outcome of :func:`add_structures`, one entry per input in input order.

    Attributes:
        ids: database id of each input's structure (new or already stored).
        inserted: True where the input created the row, False where the structure
            (same canonical hash) was already stored or came earlier in the batch.
    """

    ids: list[int]
    inserted: list[bool]

    @property
    def n_inserted(self) -> int:
        """Number of new rows."""
        return sum(self.inserted)

    @property
    def n_duplicates(self) -> int:
        """Number of inputs that were already stored or repeated in the batch."""
        return len(self.inserted) - self.n_inserted


def add_structures(engine: Engine, structures: Sequence[NewStructure]) -> AddResult:
    """Store a batch of structures in one transaction; duplicates are not stored again.

    A structure is a duplicate when a row with the same canonical hash exists (the
    first one stored is kept, with its provenance). The insert is
    ``INSERT ... ON CONFLICT (canonical_hash) DO NOTHING``, so concurrent writers
    (several processes, Ray tasks) never create two rows for one structure and never
    fail on each other's rows. Either the whole batch is stored or, on error, none of it.
    """
    if not structures:
        return AddResult([], [])
    with write_session(engine) as session:
        return add_structures_in(session, structures)


def add_structures_in(session: Session, structures: Sequence[NewStructure]) -> AddResult:
    """:func:`add_structures` inside the caller's write transaction (commits with it)."""
    if not structures:
        return AddResult([], [])
    hashes = [s.crystal.canonical_hash() for s in structures]
    rows: dict[str, dict[str, Any]] = {}
    for digest, new in zip(hashes, structures, strict=True):
        rows.setdefault(digest, _row(digest, new))
    insert = _insert_for(session).values(list(rows.values()))
    statement = insert.on_conflict_do_nothing(index_elements=["canonical_hash"]).returning(Structure.canonical_hash)
    created = set(session.scalars(statement))
    stored = select(Structure.canonical_hash, Structure.id).where(Structure.canonical_hash.in_(list(rows)))
    ids: dict[str, int] = {digest: id_ for digest, id_ in session.execute(stored)}
    first_seen: set[str] = set()
    inserted = []
    for digest in hashes:
        inserted.append(digest in created and digest not in first_seen)
        first_seen.add(digest)
    return AddResult([ids[h] for h in hashes], inserted)


def _insert_for(session: Session):  # noqa: ANN202 - dialect-specific Insert
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(Structure)


def _row(digest: str, new: NewStructure) -> dict[str, Any]:
    crystal = new.crystal
    return {
        "canonical_hash": digest,
        "hash_version": HASH_VERSION,
        "formula": crystal.reduced_formula,
        "elements": crystal.chemical_system,
        "n_elements": len(crystal.elements),
        "nsites": crystal.num_sites,
        "lattice": crystal.lattice.tolist(),
        "frac_coords": crystal.frac_coords.tolist(),
        "species": crystal.species,
        "volume": crystal.volume,
        "density": crystal.density,
        "source": new.source,
        "source_id": new.source_id,
        "properties": {str(k): _json_scalar(v) for k, v in new.properties.items()},
        "parent_id": new.parent_id,
        "campaign_id": new.campaign_id,
        "cycle_id": new.cycle_id,
    }


def _json_scalar(value: Any) -> Any:
    """JSON-safe scalar: numpy numbers become Python numbers, NaN and inf become None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def structure_to_crystal(row: Structure) -> Crystal:
    """The :class:`Crystal` stored in a ``structures`` row."""
    return Crystal.from_species(row.lattice, row.species, row.frac_coords)


def get_structure(engine: Engine, structure_id: int | None = None, canonical_hash: str | None = None) -> Structure | None:
    """Fetch one row by id or canonical hash (detached from its session)."""
    with read_session(engine) as session:
        if structure_id is not None:
            return session.get(Structure, structure_id)
        return session.scalars(select(Structure).where(Structure.canonical_hash == canonical_hash)).one_or_none()


def count_structures(engine: Engine) -> int:
    """Number of stored structures."""
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Structure)) or 0)


def structure_counts(engine: Engine, by: str = "source") -> list[tuple[str, int, int, float]]:
    """Counts grouped by a column: (value, structures, chemical systems, mean sites).

    Args:
        by: ``"source"``, ``"elements"`` or ``"formula"``.
    """
    column = {"source": Structure.source, "elements": Structure.elements, "formula": Structure.formula}.get(by)
    if column is None:
        raise ValueError(f"cannot group structures by {by!r}; use source, elements or formula")
    statement = (
        select(column, func.count(), func.count(func.distinct(Structure.elements)), func.avg(Structure.nsites))
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    with read_session(engine) as session:
        return [(str(v), int(n), int(k), float(m)) for v, n, k, m in session.execute(statement)]
