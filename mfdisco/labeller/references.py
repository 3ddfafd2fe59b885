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

from collections import Counter
from collections.abc import Mapping

from ase.data import atomic_numbers as ase_atomic_numbers
from ase.data import reference_states

from mfdisco.core import Crystal
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller.settings import LabelSettings

__all__ = ["reference_crystal", "reference_settings", "formation_energy_per_atom", "TRIPLET_ELEMENTS"]

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


def formation_energy_per_atom(
    crystal: Crystal, energy_ev: float, reference_energy_per_atom_ev: Mapping[str, float]
) -> float:
    """ΔE_f in eV/atom from the compound's total energy (eV) and each element's μ_e (eV/atom).

    Raises:
        KeyError: naming an element without a reference energy.
    """
    counts = Counter(crystal.species)
    missing = sorted(set(counts) - set(reference_energy_per_atom_ev))
    if missing:
        raise KeyError(f"no reference energy for {', '.join(missing)}")
    reference = sum(n * reference_energy_per_atom_ev[element] for element, n in counts.items())
    return (energy_ev - reference) / crystal.num_sites
