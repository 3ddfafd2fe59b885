"""Building the PySCF periodic cell of a crystal, with its spin state."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mfdisco.core import BOHR_TO_ANGSTROM, Crystal, Fidelity
from mfdisco.labeller.settings import LabelSettings, resolve_basis

__all__ = ["SpinState", "spin_state", "build_cell", "kmesh_for", "cell_kmesh", "kpoint_supercell_matrix", "cell_kpoints", "supercell_madelung_energy"]


@dataclass(frozen=True)
class SpinState:
    """Spin treatment of a calculation.

    Attributes:
        unrestricted: UKS / UHF instead of RKS / RHF.
        two_s: fixed number of unpaired electrons per cell, N_α - N_β (= moment in μB).
    """

    unrestricted: bool
    two_s: int


def spin_state(crystal: Crystal, settings: LabelSettings, n_electrons: int) -> SpinState:
    """The spin state from the initial moments and the electron count.

    The initial moments (``settings.magmoms``, μB per atom, ferromagnetic) are summed
    and rounded to the nearest spin with the parity of ``n_electrons``. ``auto`` runs
    unrestricted when that spin is non-zero; an odd electron count always needs an
    unrestricted reference.
    """
    moment = sum(settings.magmoms.get(symbol, 0.0) for symbol in crystal.species)
    two_s = int(round(moment)) if settings.spin != "restricted" else 0
    if (n_electrons - two_s) % 2:
        two_s = two_s + 1 if two_s < moment or two_s == 0 else two_s - 1
    unrestricted = settings.spin == "unrestricted" or two_s > 0
    return SpinState(unrestricted=unrestricted, two_s=two_s)


def kmesh_for(lattice: np.ndarray, settings: LabelSettings) -> tuple[int, int, int]:
    """The k-mesh of a cell: ``settings.kmesh``, or the mesh of ``settings.kspacing``.

    Args:
        lattice: lattice vectors as rows (Å). ``[3, 3]``
        settings: the label's settings.

    Returns:
        (n_1, n_2, n_3) with n_i = max(1, ⌈|b_i| / kspacing⌉), |b_i| = 2π / d_i the
        reciprocal vector lengths (Å⁻¹); a 1e-6 tolerance keeps exact multiples from
        rounding up.
    """
    if settings.kspacing is None:
        return tuple(int(n) for n in settings.kmesh)  # type: ignore[return-value]
    reciprocal = 2.0 * np.pi * np.linalg.inv(np.asarray(lattice, dtype=float)).T  # rows b_i, Å⁻¹
    lengths = np.linalg.norm(reciprocal, axis=1)
    return tuple(max(1, int(np.ceil(length / settings.kspacing - 1e-6))) for length in lengths)  # type: ignore[return-value]


def cell_kmesh(cell, settings: LabelSettings) -> tuple[int, int, int]:  # noqa: ANN001 - pyscf Cell
    """:func:`kmesh_for` of a built PySCF cell (``settings.kmesh`` when ``kpoint_supercell_atoms`` samples instead)."""
    return kmesh_for(np.asarray(cell.lattice_vectors()) * BOHR_TO_ANGSTROM, settings)


def kpoint_supercell_matrix(cell, settings: LabelSettings) -> np.ndarray | None:  # noqa: ANN001 - pyscf Cell
    """The Born-von Kármán supercell H of ``settings.kpoint_supercell_atoms``, or None when unset.

    H (integer, rows in units of the cell's vectors as PySCF holds them) is the compact
    supercell of at least that many atoms; the identity when the cell has enough atoms.
    """
    if settings.kpoint_supercell_atoms is None:
        return None
    from mfdisco.labeller.supercells import compact_supercell_matrix, supercell_multiple

    multiple = supercell_multiple(cell.natm, settings.kpoint_supercell_atoms)
    return compact_supercell_matrix(np.asarray(cell.lattice_vectors()) * BOHR_TO_ANGSTROM, multiple)


def cell_kpoints(cell, settings: LabelSettings) -> np.ndarray:  # noqa: ANN001 - pyscf Cell
    """The absolute k-points of a label (Bohr⁻¹), [n_k, 3]: the k-mesh, or those of the Born-von Kármán supercell."""
    matrix = kpoint_supercell_matrix(cell, settings)
    if matrix is None:
        return np.asarray(cell.make_kpts(cell_kmesh(cell, settings)))
    from mfdisco.labeller.supercells import supercell_kpoints

    return supercell_kpoints(matrix) @ np.asarray(cell.reciprocal_vectors())


def build_cell(crystal: Crystal, fidelity: Fidelity, settings: LabelSettings):  # noqa: ANN201 - pyscf Cell
    """The PySCF cell (Å, resolved basis and pseudopotentials, ke_cutoff, spin).

    A left-handed lattice (det < 0) is given to PySCF as its inversion -L, which spans
    the same lattice with the atoms at the same Cartesian positions: PySCF's integral
    code assumes right-handed lattice vectors.

    Raises:
        UnsupportedElementError: an element without a usable basis/pseudopotential pair.
    """
    from pyscf.pbc import gto

    pairs = resolve_basis(fidelity, settings, crystal.elements)
    cell = gto.Cell()
    cell.unit = "A"
    lattice = crystal.lattice  # [3, 3] Å, rows are lattice vectors
    cell.a = (-lattice if np.linalg.det(lattice) < 0 else lattice).tolist()
    cell.atom = [(symbol, position.tolist()) for symbol, position in zip(crystal.species, crystal.cart_coords, strict=True)]
    cell.basis = {element: basis for element, (basis, _) in pairs.items()}
    cell.pseudo = {element: pseudo for element, (_, pseudo) in pairs.items()}
    if settings.ke_cutoff_ha is not None:
        cell.ke_cutoff = settings.ke_cutoff_ha
    if settings.mesh is not None:
        cell.mesh = list(settings.mesh)
    cell.precision = settings.precision
    if settings.exp_to_discard is not None:
        cell.exp_to_discard = settings.exp_to_discard
    cell.max_memory = settings.max_memory_mb
    cell.verbose = 0
    with warnings.catch_warnings():  # PySCF warns of an odd electron count before the spin is set below
        warnings.filterwarnings("ignore", message="Electron number", category=UserWarning)
        cell.build()
    state = spin_state(crystal, settings, cell.nelectron)
    if state.two_s:
        cell.spin = state.two_s
        cell.build()
    return cell


def supercell_madelung_energy(cell, settings: LabelSettings, xc: str | None = None) -> float:  # noqa: ANN001 - pyscf Cell
    """The exchange-divergence (``exxdiv='ewald'``) energy of exact exchange on Born-von Kármán k-points, Ha per cell.

    PySCF's probe-charge correction adds c·v_M·S D S to the exchange matrix, c the
    exact-exchange coefficient and v_M the Madelung constant of the Born-von Kármán cell,
    which it builds from a Monkhorst-Pack mesh; for the generalised sampling of
    ``kpoint_supercell_atoms`` that cell is the supercell H, so the SCF runs without the
    term and this energy is added instead. The term shifts every occupied level by the
    same amount and leaves the orbitals of a gapped, integer-occupied reference unchanged,
    so E_ewald = E_none − c·v_M·N_e/2 per cell exactly (tested against the supercell at Γ;
    with smearing it is the same approximation PySCF makes on a mesh).

    Hartree-Fock (``xc`` None) has c = 1 with the 1/r Madelung constant. A hybrid mixes
    c_SR of short-range erfc(ωr)/r and c_LR of long-range erf(ωr)/r exchange (PySCF's
    ``rsh_and_hybrid_coeff``; HSE06: c_SR = 0.25, c_LR = 0, ω = 0.11 Bohr⁻¹), so its term
    is −(c_SR·v_M^SR + c_LR·v_M^LR)·N_e/2 with the Madelung constants of those operators
    (v_M^SR = v_M − v_M^LR; a global hybrid, ω = 0, takes v_M). 0.0 without that
    sampling, with ``exxdiv='none'`` or for a functional without exact exchange.
    """
    matrix = kpoint_supercell_matrix(cell, settings)
    if matrix is None or settings.exxdiv == "none" or round(abs(np.linalg.det(matrix))) == 1:
        return 0.0
    from pyscf.pbc.tools import madelung

    if xc is None:
        omega, long_range, short_range = 0.0, 0.0, 1.0
    else:
        from pyscf.dft import numint

        omega, long_range, short_range = numint.NumInt().rsh_and_hybrid_coeff(xc)
    if long_range == 0 and short_range == 0:
        return 0.0
    supercell = cell.copy(deep=False)
    supercell.unit = "B"
    supercell.a = matrix @ np.asarray(cell.lattice_vectors())  # [3, 3] Bohr, rows
    origin = np.zeros((1, 3))
    if omega == 0:
        constant = short_range * float(madelung(supercell, origin))
    else:
        constant = short_range * float(madelung(supercell, origin, omega=-abs(omega))) + long_range * float(madelung(supercell, origin, omega=abs(omega)))
    return -0.5 * constant * cell.nelectron
