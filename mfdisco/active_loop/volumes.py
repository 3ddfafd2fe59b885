"""Preparing generated cells: the expected volume from known structures, and a reduced basis.

A generated cell is also put in its Niggli-reduced basis (same structure, shortest
vectors): a skewed basis of a small cell needs a much larger real-space mesh at a fixed
kinetic-energy cutoff (measured: a 2-atom MgO candidate had a 73×59×83 mesh, 18 times
the points of rocksalt MgO's 27³, and took 282 s at PBE against 125 s).

The generator gets shapes and fractional coordinates right far more often than absolute
lattice lengths, and a cell at a sensible density relaxes in a few steps and costs PySCF
far less (measured: MgO rocksalt stretched by 30 % took 211 s at PBE against 18 s).
A candidate is scaled isotropically to its expected volume:

1. the mean volume per atom of the known compounds of its chemical system, times its
   number of atoms, when such compounds exist;
2. otherwise Σ_e n_e v_e with atomic volumes v_e (Å³/atom) fitted by non-negative least
   squares on known compounds, V ≈ Σ_e n_e v_e (additive atomic volumes);
3. otherwise it is left as generated.

Elemental structures are not used: the O₂ molecular crystal's volume per O says nothing
about oxygen in an oxide.

The validator's PBE head then relaxes the candidate, and far from its training data it
can squeeze or inflate the cell without physical reason: a young validator took 2-atom
MgO cells from rocksalt's 9.3 Å³/atom to 5.8 (whose 3×3×3 PBE and CCSD(T) labels then
both ran into the campaign's 600 s limit) and to 14.5-15.6 (3.6-9.2 eV/atom above the
CCSD(T) hull). :func:`relaxation_accepted` keeps a relaxation only when the volume stays
within a factor of the starting one (1.5 by default in the campaign: ordinary polymorphs
differ by less, wurtzite and rocksalt ZnO by 1.22×).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from mfdisco.core import Crystal

__all__ = ["fit_atomic_volumes", "expected_volume", "expected_volumes", "scale_to_volume", "relaxation_accepted", "reduced_cell"]


def fit_atomic_volumes(crystals: Sequence[Crystal]) -> dict[str, float]:
    """v_e (Å³/atom) per element from known ``crystals`` (non-negative least squares).

    Raises:
        ValueError: no crystals.
    """
    from scipy.optimize import nnls

    if not crystals:
        raise ValueError("atomic volumes need at least one known structure")
    elements = sorted({e for c in crystals for e in c.species})
    counts = np.array([[Counter(c.species)[e] for e in elements] for c in crystals], dtype=float)  # [N, E]
    volumes = np.array([c.volume for c in crystals])  # [N] Å³
    weights = 1.0 / counts.sum(axis=1)  # per-atom residuals: large cells do not dominate
    solution, _ = nnls(counts * weights[:, None], volumes * weights)
    return dict(zip(elements, solution.tolist(), strict=True))


def expected_volume(crystal: Crystal, atomic_volumes: Mapping[str, float]) -> float | None:
    """Σ_e n_e v_e (Å³) of the crystal's composition; None when an element has no fitted volume."""
    if any(atomic_volumes.get(e, 0.0) <= 0.0 for e in set(crystal.species)):
        return None
    return float(sum(atomic_volumes[e] for e in crystal.species))


def scale_to_volume(crystal: Crystal, volume: float) -> Crystal:
    """The crystal with its lattice scaled isotropically to ``volume`` (Å³); fractional coordinates kept.

    Raises:
        ValueError: a volume that is not positive.
    """
    if not volume > 0:
        raise ValueError(f"target volume must be positive, got {volume}")
    factor = (volume / crystal.volume) ** (1.0 / 3.0)
    return Crystal(crystal.lattice * factor, crystal.frac_coords, crystal.atomic_numbers)


def expected_volumes(candidates: Sequence[Crystal], known: Sequence[Crystal]) -> list[float | None]:
    """Expected volume (Å³) of each candidate from ``known`` structures (module docstring); None: no estimate."""
    compounds = [c for c in known if len(set(c.species)) > 1]
    per_atom: dict[str, list[float]] = {}
    for crystal in compounds:
        per_atom.setdefault(crystal.chemical_system, []).append(crystal.volume / crystal.num_sites)
    atomic = fit_atomic_volumes(compounds) if compounds else {}
    volumes: list[float | None] = []
    for crystal in candidates:
        same_system = per_atom.get(crystal.chemical_system)
        volumes.append(float(np.mean(same_system)) * crystal.num_sites if same_system else expected_volume(crystal, atomic))
    return volumes


def relaxation_accepted(start: Crystal, relaxed: Crystal, max_volume_change: float) -> bool:
    """True when a relaxation kept the cell volume within ``max_volume_change`` of the start, either way.

    Args:
        start: the structure before relaxation (scaled to its expected volume).
        relaxed: the structure after it.
        max_volume_change: largest accepted factor V_relaxed / V_start or V_start / V_relaxed (≥ 1).

    Raises:
        ValueError: ``max_volume_change`` below 1 (nothing could pass).
    """
    if not max_volume_change >= 1.0:
        raise ValueError(f"max_volume_change is a factor either way and must be at least 1, got {max_volume_change}")
    ratio = relaxed.volume / start.volume
    return 1.0 / max_volume_change <= ratio <= max_volume_change


def reduced_cell(crystal: Crystal) -> Crystal:
    """The same structure in its Niggli-reduced basis (sites in the same order, wrapped into the cell)."""
    from pymatgen.core import Lattice

    lattice = np.array(Lattice(crystal.lattice).get_niggli_reduced_lattice().matrix)  # [3, 3] Å
    frac = (crystal.cart_coords @ np.linalg.inv(lattice)) % 1.0  # same Cartesian positions
    return Crystal(lattice, frac, crystal.atomic_numbers)
