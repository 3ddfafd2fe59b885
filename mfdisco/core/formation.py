"""Formation energy per atom: the one definition every folder uses.

ΔE_f = E/N − Σ_e x_e μ_e, with E/N the compound's energy per atom (eV/atom), x_e the
atom fraction of element e and μ_e its reference energy per atom at the same fidelity
and settings (eV/atom). Energies of different methods compare only through ΔE_f
(DESIGN.md, physics conventions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from mfdisco.core.crystal import Crystal

__all__ = ["formation_energy_per_atom"]


def formation_energy_per_atom(crystal: Crystal, energy_per_atom_ev: float, reference_energy_per_atom_ev: Mapping[str, float]) -> float:
    """ΔE_f (eV/atom) of ``crystal`` from its energy per atom and each element's μ_e (eV/atom).

    Raises:
        KeyError: naming the elements without a reference energy.
    """
    counts = Counter(crystal.species)
    missing = sorted(set(counts) - set(reference_energy_per_atom_ev))
    if missing:
        raise KeyError(f"no reference energy for {', '.join(missing)}")
    return energy_per_atom_ev - sum(n * reference_energy_per_atom_ev[element] for element, n in counts.items()) / crystal.num_sites
