"""Cost estimate of a calculation before it runs, and the limits that refuse it.

Memory model (8-byte reals at Γ, complex with k-points; o occupied, v virtual
correlated orbitals per spin):
    SCF: 12 AO matrices per k-point plus the AO values on one block of the grid;
    Gaussian density fitting: 3-index integrals (≈ 4 auxiliary functions per AO)
        held one k-pair block at a time;
    CCSD (incore integrals, as PySCF builds them), per k-point triple (N_k³ blocks with a
        k-mesh, one at Γ): 6 o²v² (amplitudes, residuals, DIIS) + 2 o v³ + v⁴ (v⁴/2 at Γ,
        where the 8-fold permutational symmetry holds), three spin blocks unrestricted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mfdisco.core import Crystal, Fidelity
from mfdisco.labeller.cell import build_cell, cell_kpoints, spin_state
from mfdisco.labeller.settings import LabelSettings
from mfdisco.labeller.supercells import supercell_multiple

__all__ = ["CostEstimate", "estimate_cost", "limit_problem", "frozen_orbitals"]

_BYTES = 8.0
_MB = 1e6


@dataclass(frozen=True)
class CostEstimate:
    """Size and memory of a calculation.

    Attributes:
        n_atoms, n_electrons, n_ao: per cell (valence electrons of the pseudopotentials).
        n_kpts: k-points.
        n_orbitals: orbitals of the largest coupled problem: the AOs of one cell for DFT and
            HF (k-points are separate blocks), the AOs of all k-points for coupled
            cluster on a k-mesh, of the correlation supercell for the composite; what
            ``max_orbitals`` limits.
        n_occupied, n_virtual: per spin and k-point (restricted: doubly occupied).
        n_frozen: frozen core orbitals in coupled cluster.
        mesh: real-space grid.
        unrestricted, two_s: spin treatment.
        memory_mb: estimated peak memory.
    """

    n_atoms: int
    n_electrons: int
    n_ao: int
    n_kpts: int
    n_orbitals: int
    n_occupied: int
    n_virtual: int
    n_frozen: int
    mesh: tuple[int, int, int]
    unrestricted: bool
    two_s: int
    memory_mb: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {**asdict(self), "mesh": list(self.mesh)}


def frozen_orbitals(crystal: Crystal, cell) -> int:  # noqa: ANN001 - pyscf Cell
    """Semicore orbitals kept by the pseudopotentials: electrons below each atom's outer shell.

    For an atom with pseudopotential charge q and Z - Z_core electrons beyond its
    noble-gas core, q - (Z - Z_core) electrons are semicore (Mg with q = 10: 2s²2p⁶ → 4
    orbitals; O: none).
    """
    noble = (0, 2, 10, 18, 36, 54, 86)
    frozen_electrons = 0
    for index, z in enumerate(crystal.atomic_numbers):
        core = max(n for n in noble if n < z) if z > 2 else 0
        frozen_electrons += max(0, int(cell.atom_charge(index)) - (int(z) - core))
    return frozen_electrons // 2


def estimate_cost(crystal: Crystal, fidelity: Fidelity, settings: LabelSettings, cell=None) -> CostEstimate:  # noqa: ANN001
    """Estimate size and memory; no integral is computed.

    Args:
        cell: the PySCF cell when already built (built from the crystal otherwise).
    """
    cell = cell if cell is not None else build_cell(crystal, fidelity, settings)
    n_kpts = len(cell_kpoints(cell, settings))
    state = spin_state(crystal, settings, cell.nelectron)
    n_occupied = (cell.nelectron + state.two_s) // 2
    n_ao = int(cell.nao_nr())
    n_frozen = frozen_orbitals(crystal, cell) if settings.frozen_core and fidelity is Fidelity.CCSD_T else 0
    n_virtual = n_ao - n_occupied
    complex_factor = 2.0 if n_kpts > 1 else 1.0
    scf = 12 * n_ao**2 * n_kpts * complex_factor + n_ao * min(int(np.prod(cell.mesh)), 20000)
    density_fit = 4 * n_ao * n_ao**2 * complex_factor if settings.density_fit != "fft" else 0.0
    memory = (scf + density_fit) * _BYTES
    multiple = supercell_multiple(crystal.num_sites, settings.correlation_supercell_atoms) if settings.correlation_at_gamma else 1
    if fidelity is Fidelity.CCSD_T:
        o, v = multiple * (n_occupied - n_frozen), multiple * n_virtual  # the Γ correlation's supercell
        blocks = 3.0 if state.unrestricted else 1.0
        cc_kpts = 1 if settings.correlation_at_gamma else n_kpts
        vvvv = v**4 / 2 if cc_kpts == 1 else v**4  # Γ keeps the 8-fold symmetry, k-point blocks do not
        memory += blocks * cc_kpts**3 * (6 * o**2 * v**2 + 2 * o * v**3 + vvvv) * _BYTES * (2.0 if cc_kpts > 1 else 1.0)
    return CostEstimate(
        n_atoms=crystal.num_sites,
        n_electrons=int(cell.nelectron),
        n_ao=n_ao,
        n_kpts=n_kpts,
        n_orbitals=n_ao * (multiple if settings.correlation_at_gamma else n_kpts) if fidelity is Fidelity.CCSD_T else n_ao,
        n_occupied=n_occupied,
        n_virtual=n_virtual,
        n_frozen=n_frozen,
        mesh=tuple(int(m) for m in cell.mesh),
        unrestricted=state.unrestricted,
        two_s=state.two_s,
        memory_mb=memory / _MB,
    )


def limit_problem(estimate: CostEstimate, settings: LabelSettings) -> str | None:
    """Why the estimate exceeds the settings' limits; None when it fits."""
    if estimate.n_orbitals > settings.max_orbitals:
        return f"{estimate.n_orbitals} orbitals exceed the limit of {settings.max_orbitals} (max_orbitals)"
    if estimate.memory_mb > settings.max_memory_mb:
        return f"estimated memory {estimate.memory_mb:.0f} MB exceeds the limit of {settings.max_memory_mb} MB (max_memory_mb)"
    return None
