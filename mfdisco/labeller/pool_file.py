"""Reading the reference pool's data file (``benchmarks/pool/pool_labels.json.gz``).

The file is gzip-compressed JSON written by ``benchmarks/pool/build_pool.py``:
``structures`` (name, canonical hash, subset flag and the crystal's ``to_dict``),
``labels`` (canonical hash, name, preset and the :class:`Label` fields) and ``settings``
(the labeller settings of each preset and fidelity). The file holds labels of several
settings families side by side; :func:`entries_at` keeps one family, which every reader
that compares energies must do.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.labeller.settings import LabelSettings, settings_hash

__all__ = ["PoolEntry", "read_pool_file", "entries_at", "excluding"]


@dataclass(frozen=True)
class PoolEntry:
    """One label of the pool with its structure.

    Attributes:
        name: the member's name (prototype and formula, or its variant).
        crystal: the structure.
        subset: the member is in the SCAN/HSE06 subset.
        label: the stored label.
    """

    name: str
    crystal: Crystal
    subset: bool
    label: Label


def read_pool_file(path: str | Path) -> list[PoolEntry]:
    """Every label of a pool data file, with its structure.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a pool data file (names what is missing).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pool data file not found: {path}")
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a gzip-compressed JSON pool file ({error})") from error
    if not isinstance(data, dict) or "structures" not in data or "labels" not in data:
        raise ValueError(f"{path}: a pool file needs 'structures' and 'labels'")
    structures = {s["canonical_hash"]: s for s in data["structures"]}
    entries = []
    for item in data["labels"]:
        structure = structures.get(item["canonical_hash"])
        if structure is None:
            raise ValueError(f"{path}: label of {item.get('name')!r} has no structure {item['canonical_hash'][:12]}")
        crystal = Crystal.from_dict({k: v for k, v in structure.items() if k not in ("name", "canonical_hash", "subset")})
        label = Label(**{**item["label"], "fidelity": Fidelity.parse(item["label"]["fidelity"])})
        if label.status not in ("done", "failed", "refused"):  # a label in flight when the file was written
            continue
        entries.append(PoolEntry(structure["name"], crystal, bool(structure["subset"]), label))
    return entries


def entries_at(entries: list[PoolEntry], settings_for: Callable[[Fidelity], LabelSettings]) -> list[PoolEntry]:
    """The entries labelled with one family of settings.

    Args:
        entries: pool entries (any families).
        settings_for: the family's settings of each fidelity (e.g. ``LabellerConfig.settings_for``);
            an elemental structure is matched at that element's reference settings
            (O₂ as a triplet), as formation energies look them up.
    """
    from mfdisco.labeller.references import reference_settings

    kept = []
    for entry in entries:
        settings = settings_for(entry.label.fidelity)
        elements = set(entry.crystal.species)
        if len(elements) == 1:
            settings = reference_settings(elements.pop(), settings)
        if settings_hash(entry.label.fidelity, settings) == entry.label.settings_hash:
            kept.append(entry)
    return kept


def excluding(entries: list[PoolEntry], patterns: Sequence[str]) -> list[PoolEntry]:
    """The entries whose member name matches none of the shell-style ``patterns``.

    For leaving out labels known to be unreliable, e.g. ``'cesium-chloride:*'`` (the B2
    cells' ``kpoint-sc4`` correlation energies, :mod:`mfdisco.labeller.presets`).

    Raises:
        ValueError: a pattern that matches none of ``entries``, naming it (a typo would
            otherwise leave everything in).
    """
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(e.name, p) for e in entries)]
    if unmatched:
        raise ValueError(f"--exclude: {', '.join(map(repr, unmatched))} match no labelled member (names look like 'rocksalt:MgO', 'cesium-chloride:*')")
    return [e for e in entries if not any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]
