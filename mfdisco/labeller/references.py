"""Elemental references and formation energies, at one fidelity and one family of settings.

The formation energy per atom of a compound with n_e atoms of element e (N in all) is

    ΔE_f = (E_compound - Σ_e n_e μ_e) / N,    μ_e = E_reference(e) / atoms in the reference cell,

with every energy from the same fidelity and settings (DESIGN.md: total energies of
different methods, bases or pseudopotentials are never compared directly).

Reference structures come from the built-in prototype set: the metal's structure in
ASE's reference state (fcc, bcc or hcp; α-Mn is not among them, so Mn takes bcc) and,
for oxygen, the O₂ molecular crystal computed as a triplet (O₂'s ground state): its
settings add an initial moment of 1 μB per O atom, so its settings hash differs from
the compound's in that one deliberate way (:func:`reference_settings`).

Caveat, to be measured by the benchmarks: metallic references need a k-mesh (or a large
supercell) at DFT fidelities, and CCSD(T) of a metal is ill-defined at Γ; formation
energies of metal-containing compounds at CCSD(T) are then limited by the reference.
"""

from __future__ import annotations

from ase.data import atomic_numbers as ase_atomic_numbers
from ase.data import reference_states

from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, formation_energy_per_atom
from mfdisco.db import NewStructure, add_structures, find_calculation, get_structure, structure_to_crystal
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller.settings import LabelSettings, settings_hash

__all__ = [
    "TRIPLET_ELEMENTS",
    "reference_crystal",
    "reference_settings",
    "store_references",
    "reference_jobs",
    "formation_energies",
]

#: Elements whose reference is a molecular crystal of triplet dimers.
TRIPLET_ELEMENTS: frozenset[str] = frozenset({"O"})
_FALLBACK_PROTOTYPE = "bcc"


def reference_crystal(element: str) -> Crystal:
    """The reference structure of ``element`` (see the module docstring).

    Raises:
        InvalidCrystalError: not an element symbol.
    """
    records = {r.source_id: r for r in builtin_prototypes([element])}
    if element in TRIPLET_ELEMENTS or element == "O":
        return records[f"molecular:{element}2"].crystal
    symmetry = (reference_states[ase_atomic_numbers[element]] or {}).get("symmetry")
    prototype = symmetry if symmetry in ("fcc", "bcc", "hcp") else _FALLBACK_PROTOTYPE
    return records[f"{prototype}:{element}"].crystal


def reference_settings(element: str, settings: LabelSettings) -> LabelSettings:
    """Settings of the reference of ``element`` for a compound computed with ``settings``.

    The same settings, except for the triplet dimers (O₂), which get an initial moment
    of 1 μB per atom so that the reference is computed in its ground spin state.
    """
    if element not in TRIPLET_ELEMENTS:
        return settings
    return settings.model_copy(update={"magmoms": {**settings.magmoms, element: 1.0}})


def store_references(engine: Engine, elements: list[str]) -> dict[str, int]:
    """Store the reference structure of each element (once) and return their structure ids."""
    crystals = {element: reference_crystal(element) for element in sorted(set(elements))}
    result = add_structures(engine, [NewStructure(c, "reference", f"reference:{e}") for e, c in crystals.items()])
    return dict(zip(crystals, result.ids, strict=True))


def reference_jobs(engine: Engine, elements: list[str], fidelity: Fidelity, settings: LabelSettings) -> list[tuple[int, LabelSettings]]:
    """(structure id, settings) of the reference labels that formation energies at these settings need."""
    return [(structure_id, reference_settings(element, settings)) for element, structure_id in store_references(engine, elements).items()]


def formation_energies(
    engine: Engine, structure_ids: list[int], fidelity: Fidelity | str, settings: LabelSettings
) -> tuple[dict[int, float], dict[int, str]]:
    """ΔE_f (eV/atom) of stored structures from their stored labels and those of the references.

    Returns:
        The formation energies of the structures that have a done label and all their
        references, and for the others the reason (no label, missing reference...).
    """
    fidelity = Fidelity.parse(fidelity)
    mu: dict[str, float | None] = {}
    energies: dict[int, float] = {}
    missing: dict[int, str] = {}
    for structure_id in structure_ids:
        row = get_structure(engine, structure_id)
        if row is None:
            missing[structure_id] = "no such structure"
            continue
        crystal = structure_to_crystal(row)
        label = find_calculation(engine, structure_id, fidelity, settings_hash(fidelity, settings))
        if label is None or label.status != "done":
            missing[structure_id] = f"no done {fidelity.value} label"
            continue
        for element in crystal.elements:
            if element not in mu:
                mu[element] = _reference_energy_per_atom(engine, element, fidelity, settings)
        absent = [e for e in crystal.elements if mu[e] is None]
        if absent:
            missing[structure_id] = f"no done {fidelity.value} reference label for {', '.join(absent)}"
            continue
        energies[structure_id] = formation_energy_per_atom(crystal, label.energy_ev / crystal.num_sites, {e: mu[e] for e in crystal.elements})
    return energies, missing


def _reference_energy_per_atom(engine: Engine, element: str, fidelity: Fidelity, settings: LabelSettings) -> float | None:
    row = get_structure(engine, canonical_hash=reference_crystal(element).canonical_hash())
    if row is None:
        return None
    label = find_calculation(engine, row.id, fidelity, settings_hash(fidelity, reference_settings(element, settings)))
    return label.energy_per_atom_ev if label is not None and label.status == "done" else None
