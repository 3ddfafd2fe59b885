"""What a dataset loader yields: accepted crystals with their properties, or rejections."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mfdisco.core import Crystal, structural_problems

__all__ = ["CrystalRecord", "Rejection", "DatasetStream", "PropertyValue", "screen_structures"]

PropertyValue = float | int | str | bool | None


@dataclass(frozen=True)
class CrystalRecord:
    """One crystal read from a dataset.

    Attributes:
        crystal: the structure.
        source: name of the dataset it came from (e.g. ``"perov_5"``, ``"builtin"``).
        source_id: its identifier inside the source (material id, file path, row).
        properties: scalar properties given with it (energies in eV or eV/atom, band
            gaps in eV, as the source defines them; names are the source's own).
    """

    crystal: Crystal
    source: str
    source_id: str | None = None
    properties: dict[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """An input entry that could not become a crystal.

    Attributes:
        where: the file, row or entry, as a person would find it.
        reason: why it was rejected.
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class DatasetStream:
    """A lazily read dataset.

    Attributes:
        name: the dataset's name, used as ``source`` of its records.
        items: records and rejections in input order.
        total: number of entries when known in advance (for progress bars).
    """

    name: str
    items: Iterator[CrystalRecord | Rejection]
    total: int | None = None


def screen_structures(
    items: Iterable[CrystalRecord | Rejection], min_distance: float
) -> Iterator[CrystalRecord | Rejection]:
    """Turn structurally invalid records (atoms closer than ``min_distance`` Å) into rejections."""
    for item in items:
        if isinstance(item, CrystalRecord):
            problems = structural_problems(item.crystal, min_distance)
            if problems:
                where = f"{item.source} {item.source_id}" if item.source_id else item.source
                yield Rejection(where, "; ".join(problems))
                continue
        yield item
