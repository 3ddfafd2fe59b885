"""What a campaign reads from the database: the pool's labels, labelled data per fidelity, hulls and q.

Labels are comparable only at one family of settings (DESIGN.md). At each fidelity a
campaign uses the labeller's configured settings for compounds and, for an elemental
structure, that element's reference settings (O₂ as a triplet), exactly the settings the
formation energies and hulls are defined with.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from mfdisco.active_loop.hull import HullEntry, HullResult, distances_to_known_hull, hull_distances
from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import NewStructure, add_structures, done_labels, find_calculation, record_label
from mfdisco.generator.conditioning import quantum_vector
from mfdisco.labeller.pool_file import read_pool_file
from mfdisco.labeller.references import TRIPLET_ELEMENTS, reference_settings
from mfdisco.labeller.settings import LabelSettings, settings_hash

__all__ = ["LabelledStructure", "import_pool", "labelled_at", "reference_mu", "hulls", "predicted_hull_distances", "descriptor_table"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledStructure:
    """A stored structure with its done label at one fidelity."""

    structure_id: int
    crystal: Crystal
    label: Label


def import_pool(engine: Engine, path: str | Path) -> tuple[int, int]:
    """Store the reference pool's structures (source ``pool``) and labels; returns (structures, new labels).

    A label already stored with the same (structure, fidelity, settings hash) is left as it is.

    Raises:
        FileNotFoundError, ValueError: the pool file is missing or malformed (naming it).
    """
    entries = read_pool_file(path)
    names = {e.crystal.canonical_hash(): e for e in entries}
    result = add_structures(engine, [NewStructure(e.crystal, "pool", e.name, {"subset": e.subset}) for e in names.values()])
    ids = dict(zip(names, result.ids, strict=True))
    new = 0
    for entry in entries:
        structure_id = ids[entry.crystal.canonical_hash()]
        if find_calculation(engine, structure_id, entry.label.fidelity, entry.label.settings_hash) is None:
            record_label(engine, structure_id, entry.label)
            new += 1
    return len(ids), new


def labelled_at(engine: Engine, fidelity: Fidelity, settings: LabelSettings, elements: Sequence[str] | None = None) -> list[LabelledStructure]:
    """Done labels at ``fidelity``: compounds at ``settings``, elements at their reference settings.

    Args:
        elements: keep only structures made of these elements (None: all).
    """
    base = settings_hash(fidelity, settings)
    hashes = {base} | {settings_hash(fidelity, reference_settings(e, settings)) for e in TRIPLET_ELEMENTS}
    allowed = None if elements is None else set(elements)
    found: list[LabelledStructure] = []
    for digest in sorted(hashes):
        for structure_id, crystal, label in done_labels(engine, {fidelity: digest}):
            present = set(crystal.species)
            if allowed is not None and not present <= allowed:
                continue
            expected = settings_hash(fidelity, reference_settings(next(iter(present)), settings)) if len(present) == 1 else base
            if label.settings_hash == expected and label.energy_ev is not None:
                found.append(LabelledStructure(structure_id, crystal, label))
    return sorted(found, key=lambda item: item.structure_id)


def reference_mu(labelled: Sequence[LabelledStructure]) -> dict[str, float]:
    """μ_e (eV/atom): the lowest energy per atom among the labelled structures of each pure element."""
    mu: dict[str, float] = {}
    for item in labelled:
        present = set(item.crystal.species)
        if len(present) == 1:
            element = present.pop()
            mu[element] = min(mu.get(element, np.inf), item.label.energy_ev / item.crystal.num_sites)
    return mu


def hulls(labelled: Sequence[LabelledStructure]) -> dict[int, HullResult]:
    """Structure id → formation energy and energy above the hull (one fidelity's labels)."""
    entries = [HullEntry(item.structure_id, Counter(item.crystal.species), float(item.label.energy_ev)) for item in labelled]
    return hull_distances(entries)


def predicted_hull_distances(labelled: Sequence[LabelledStructure], crystals: Sequence[Crystal], energies_per_atom: Sequence[float]) -> np.ndarray:
    """[N] energy above the hull of ``labelled`` (one fidelity) of crystals with predicted energies (eV/atom).

    Negative below the labelled hull; NaN for a crystal with an element that has no
    labelled elemental entry. See :func:`mfdisco.active_loop.hull.distances_to_known_hull`.

    Raises:
        ValueError: ``crystals`` and ``energies_per_atom`` of different lengths, or a non-finite energy.
    """
    if len(crystals) != len(energies_per_atom):
        raise ValueError(f"{len(crystals)} crystals but {len(energies_per_atom)} predicted energies")
    known = [HullEntry(item.structure_id, Counter(item.crystal.species), float(item.label.energy_ev)) for item in labelled]
    candidates = [HullEntry(("candidate", i), Counter(c.species), float(e) * c.num_sites) for i, (c, e) in enumerate(zip(crystals, energies_per_atom, strict=True))]
    distances = distances_to_known_hull(known, candidates)
    return np.array([distances.get(("candidate", i), np.nan) for i in range(len(crystals))], dtype=float)


def descriptor_table(labelled_pbe: Sequence[LabelledStructure], names: Sequence[str]) -> dict[int, list[float]]:
    """Structure id → q (in the order of ``names``) from the PBE labels that have every component."""
    table: dict[int, list[float]] = {}
    for item in labelled_pbe:
        vector = quantum_vector(item.label.descriptors, names)
        if vector is not None and all(np.isfinite(vector)):
            table[item.structure_id] = vector
    return table
