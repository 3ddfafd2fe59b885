"""Physics checks of a potential: symmetry, periodicity and force consistency.

Each check takes an ``energy_and_forces(sample) -> (E (eV), F [n_atoms, 3] (eV/Å))``
function and returns the largest deviation found, so tests and benchmarks assert on
numbers:

* rotation: E(R r) = E(r) and F(R r) = R F(r) for a random proper rotation R applied to
  positions and lattice vectors;
* translation: E and F unchanged when every atom moves by the same vector;
* permutation: E unchanged and F permuted with the atoms;
* periodic images: E(2×1×1 supercell) = 2 E(cell) and the forces repeat;
* forces: F = −∂E/∂r by central finite differences, F_iα ≈ −[E(r + h e_iα) − E(r − h e_iα)] / 2h.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from mfdisco.validator.samples import Sample

__all__ = [
    "EnergyAndForces",
    "random_rotation",
    "rotation_deviation",
    "translation_deviation",
    "permutation_deviation",
    "supercell_deviation",
    "finite_difference_deviation",
]

EnergyAndForces = Callable[[Sample], tuple[float, np.ndarray]]


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random proper rotation matrix [3, 3] (QR of a Gaussian matrix, det +1)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def rotation_deviation(energy_and_forces: EnergyAndForces, sample: Sample, rotation: np.ndarray) -> tuple[float, float]:
    """(|ΔE| in eV, max |ΔF| in eV/Å) between ``sample`` and its rotated copy (forces rotated back)."""
    energy, forces = energy_and_forces(sample)
    rotated = replace(sample, positions=sample.positions @ rotation.T, cell=None if sample.cell is None else sample.cell @ rotation.T)
    energy_r, forces_r = energy_and_forces(rotated)
    return abs(energy_r - energy), float(np.abs(forces_r - forces @ rotation.T).max())


def translation_deviation(energy_and_forces: EnergyAndForces, sample: Sample, shift: np.ndarray) -> tuple[float, float]:
    """(|ΔE|, max |ΔF|) when every atom moves by ``shift`` (Å)."""
    energy, forces = energy_and_forces(sample)
    energy_t, forces_t = energy_and_forces(replace(sample, positions=sample.positions + np.asarray(shift)))
    return abs(energy_t - energy), float(np.abs(forces_t - forces).max())


def permutation_deviation(energy_and_forces: EnergyAndForces, sample: Sample, permutation: np.ndarray) -> tuple[float, float]:
    """(|ΔE|, max |ΔF|) when the atoms are reordered by ``permutation`` (forces compared in the new order)."""
    energy, forces = energy_and_forces(sample)
    permuted = replace(sample, atomic_numbers=sample.atomic_numbers[permutation], positions=sample.positions[permutation])
    energy_p, forces_p = energy_and_forces(permuted)
    return abs(energy_p - energy), float(np.abs(forces_p - forces[permutation]).max())


def supercell_deviation(energy_and_forces: EnergyAndForces, sample: Sample) -> tuple[float, float]:
    """(|E(2×1×1) − 2 E|, max |ΔF|) for the supercell doubled along the first lattice vector."""
    if sample.cell is None:
        raise ValueError("supercell_deviation needs a periodic sample (cell is None)")
    energy, forces = energy_and_forces(sample)
    doubled = replace(
        sample,
        atomic_numbers=np.concatenate([sample.atomic_numbers] * 2),
        positions=np.concatenate([sample.positions, sample.positions + sample.cell[0]]),
        cell=sample.cell * np.array([[2.0], [1.0], [1.0]]),
    )
    energy_2, forces_2 = energy_and_forces(doubled)
    return abs(energy_2 - 2 * energy), float(np.abs(forces_2 - np.concatenate([forces] * 2)).max())


def finite_difference_deviation(energy_and_forces: EnergyAndForces, sample: Sample, step: float = 1e-4) -> float:
    """Max |F − F_fd| (eV/Å) of the analytic forces against central differences of the energy with step ``step`` (Å)."""
    _, forces = energy_and_forces(sample)
    numeric = np.zeros_like(forces)
    for atom in range(sample.num_atoms):
        for axis in range(3):
            energies = []
            for sign in (1.0, -1.0):
                moved = sample.positions.copy()
                moved[atom, axis] += sign * step
                energies.append(energy_and_forces(replace(sample, positions=moved))[0])
            numeric[atom, axis] = -(energies[0] - energies[1]) / (2 * step)
    return float(np.abs(numeric - forces).max())
