"""Compact supercells for the Γ-point correlation energy of the composite CCSD(T).

The correlation energy of a periodic cell at Γ carries a finite-size error that shrinks
with the size of the cell (measured, ``benchmarks/labeller/correlation_cell_size.py``:
rocksalt CaO −3.87 eV/atom in its 2-atom cell, −4.23 in a 4-atom cell of the same
crystal). Energies that are compared (a compound and the phases it decomposes into) must
therefore carry their correlation from cells of the same size and, as far as possible,
the same shape. ``LabelSettings.correlation_supercell_atoms = N`` computes the Γ
correlation of every cell in its supercell of at least N atoms that is most compact:

* the multiple is the smallest integer m with m·n_atoms ≥ N;
* among the sublattices of index m (one per Hermite normal form H, supercell vectors
  = H · cell vectors, as rows), the one whose shortest lattice vectors are longest,
  compared shortest first (the periodic images of any atom lie as far away as they
  can). The comparison is made robust to strain in two passes: first, position by
  position, every candidate whose distance falls more than ``CLASS_TOLERANCE`` (10 %)
  below the longest is dropped; then, among those left, the exact comparison (to
  1e-4 Å) decides, ties kept in enumeration order. Without the first pass a strain of
  1-2 % flipped the choice between supercells of different shape: a perturbed rocksalt
  SrO took a rhombohedral cell (image distances 3.69, 3.70, 3.71 Å) over the tetragonal
  one (3.67, 3.69, 5.18 Å) because its shortest distance was 0.02 Å longer, and its
  Γ correlation energy came out 0.26 eV/atom below its parent's.

For rocksalt's 2-atom primitive cell and N = 4 this is the tetragonal cell
(a/√2, a/√2, a), the cell of the (001)-ordered rocksalts of the pool: a binary oxide and
an ordered ternary then carry their correlation from cells of one size and shape.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from mfdisco.core import Crystal

__all__ = ["CLASS_TOLERANCE", "supercell_multiple", "hermite_normal_forms", "image_distances", "compact_supercell_matrix", "correlation_supercell", "supercell_kpoints"]

_COMPARED_DISTANCES = 6  # shortest lattice vectors (up to sign) that rank a supercell
_DISTANCE_DECIMALS = 4  # Å; shorter differences count as ties
#: Relative shortfall of an image distance that rules a supercell out (see the module docstring).
CLASS_TOLERANCE = 0.10


def supercell_multiple(n_sites: int, min_atoms: int | None) -> int:
    """The smallest m with m·n_sites ≥ min_atoms (1 when ``min_atoms`` is None)."""
    if min_atoms is None:
        return 1
    return max(1, math.ceil(min_atoms / n_sites))


def hermite_normal_forms(multiple: int) -> list[np.ndarray]:
    """Every sublattice of index ``multiple`` once, as lower-triangular integer matrices H.

    Rows of H are the supercell vectors in units of the cell vectors: a'₁ = h₁₁a₁,
    a'₂ = h₂₁a₁ + h₂₂a₂, a'₃ = h₃₁a₁ + h₃₂a₂ + h₃₃a₃, with h₁₁h₂₂h₃₃ = multiple,
    0 ≤ h₂₁, h₃₁ < h₁₁ and 0 ≤ h₃₂ < h₂₂ (7 matrices for 2, 35 for 4).
    """
    if multiple < 1:
        raise ValueError(f"supercell multiple {multiple}: must be >= 1")
    forms = []
    for a in range(1, multiple + 1):
        if multiple % a:
            continue
        for c in range(1, multiple // a + 1):
            if (multiple // a) % c:
                continue
            f = multiple // (a * c)
            for b, d, e in itertools.product(range(a), range(a), range(c)):
                forms.append(np.array([[a, 0, 0], [b, c, 0], [d, e, f]]))
    return forms


def image_distances(lattice: np.ndarray, count: int = _COMPARED_DISTANCES) -> np.ndarray:
    """Lengths of the ``count`` shortest lattice vectors, one of each ± pair, ascending (Å).

    Args:
        lattice: (3, 3) lattice vectors as rows (Å).
    """
    from pymatgen.core import Lattice

    reduced = Lattice(lattice).get_lll_reduced_lattice().matrix  # (3, 3); short vectors lie in [-2, 2]³
    steps = np.array([n for n in itertools.product(range(-2, 3), repeat=3) if n > (0, 0, 0)])  # (62, 3), one per ± pair
    lengths = np.sort(np.linalg.norm(steps @ reduced, axis=1))
    return lengths[:count]


def compact_supercell_matrix(lattice: np.ndarray, multiple: int) -> np.ndarray:
    """The Hermite normal form of index ``multiple`` whose supercell is most compact.

    Most compact: its shortest lattice vectors are longest, compared shortest first.
    Candidates whose k-th shortest distance falls more than :data:`CLASS_TOLERANCE`
    below the longest k-th distance among those still in are dropped (k = 1, 2, ...);
    of the rest, the one with the longest distances compared exactly (rounded to 1e-4 Å),
    the first in :func:`hermite_normal_forms` order on a tie.

    Args:
        lattice: (3, 3) cell vectors as rows (Å).
        multiple: the supercell's volume in cells.

    Returns:
        (3, 3) integer matrix H; supercell vectors are ``H @ lattice``.
    """
    lattice = np.asarray(lattice, dtype=float)
    return np.array(_compact_supercell_matrix(tuple(lattice.ravel()), multiple))  # a copy: the cached one stays intact


@functools.lru_cache(maxsize=64)
def _compact_supercell_matrix(lattice_values: tuple[float, ...], multiple: int) -> np.ndarray:
    """:func:`compact_supercell_matrix` of a flattened lattice, cached: a label asks for its
    Born-von Kármán cell several times (cost estimate, every SCF attempt, the Madelung term)."""
    lattice = np.array(lattice_values).reshape(3, 3)
    forms = hermite_normal_forms(multiple)
    distances = np.array([image_distances(form @ lattice) for form in forms])  # [n_forms, _COMPARED_DISTANCES] Å
    kept = np.arange(len(forms))
    for k in range(distances.shape[1]):
        column = distances[kept, k]
        kept = kept[column >= (1.0 - CLASS_TOLERANCE) * column.max()]
    best = max(kept, key=lambda i: (tuple(np.round(distances[i], _DISTANCE_DECIMALS)), -i))
    return forms[best]


def correlation_supercell(crystal: Crystal, min_atoms: int | None) -> tuple[Crystal, np.ndarray]:
    """The compact supercell of ``crystal`` with at least ``min_atoms`` atoms, and its matrix H.

    Returns the crystal itself and the identity when it already has ``min_atoms`` atoms
    (or ``min_atoms`` is None). The supercell's lattice is LLL-reduced (the same
    periodic solid; shorter lattice sums).
    """
    multiple = supercell_multiple(crystal.num_sites, min_atoms)
    if multiple == 1:
        return crystal, np.eye(3, dtype=int)
    matrix = compact_supercell_matrix(crystal.lattice, multiple)
    structure = crystal.to_pymatgen()
    structure.make_supercell(matrix)
    supercell = Crystal.from_pymatgen(structure.get_reduced_structure("LLL"))
    if supercell.num_sites != multiple * crystal.num_sites:  # a failed construction must never label the wrong solid
        raise RuntimeError(f"supercell of {crystal.formula} with H = {matrix.tolist()} has {supercell.num_sites} atoms, expected {multiple * crystal.num_sites}")
    return supercell, matrix


def supercell_kpoints(matrix: np.ndarray) -> np.ndarray:
    """The k-points of a cell that sample exactly its supercell ``H`` (Born-von Kármán cell).

    A k-point k = f·B (B the cell's reciprocal vectors as rows) has the supercell's
    periodicity when k·R is a multiple of 2π for every supercell vector R (rows of
    H @ lattice), i.e. when H f is an integer vector: f = H⁻¹ n. The |det H| distinct
    such f in [0, 1)³ are the sampling; for a diagonal H = diag(n₁, n₂, n₃) they are the
    Γ-centred n₁×n₂×n₃ mesh. Energies per atom on them equal the Γ energies per atom of
    the supercell (tested).

    Args:
        matrix: (3, 3) integer supercell matrix H, det H ≠ 0.

    Returns:
        [|det H|, 3] fractional coordinates in units of the reciprocal vectors, Γ first.
    """
    matrix = np.asarray(matrix)
    multiple = round(abs(np.linalg.det(matrix)))
    if multiple < 1 or not np.array_equal(matrix, np.round(matrix)):
        raise ValueError(f"supercell matrix {matrix.tolist()}: must be integer with a non-zero determinant")
    integers = np.array(list(itertools.product(range(multiple), repeat=3)))  # [multiple³, 3]
    fractions = integers @ np.linalg.inv(matrix).T  # rows f = H⁻¹ n
    fractions = np.round(fractions - np.floor(fractions + 1e-9), 9) % 1.0
    unique = np.unique(fractions, axis=0)  # sorted: Γ first
    if len(unique) != multiple:  # a failed construction must never sample the wrong supercell
        raise RuntimeError(f"supercell matrix {matrix.tolist()} gave {len(unique)} k-points, expected {multiple}")
    return unique
