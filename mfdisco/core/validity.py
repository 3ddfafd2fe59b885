"""Structural validity: the field's geometric sanity checks on a crystal.

DESIGN.md (evaluation protocols): a structure is structurally valid when every periodic
interatomic distance exceeds 0.5 Å and the cell volume exceeds 0.1 Å³. The volume bound
is enforced when a :class:`~mfdisco.core.crystal.Crystal` is built; the distance bound
is checked here because generated structures must be representable (and counted as
invalid) rather than refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from mfdisco.core.crystal import MIN_VOLUME_A3, Crystal
from mfdisco.core.errors import InvalidCrystalError

__all__ = ["MIN_DISTANCE_A", "closest_pair", "tightest_contact", "structural_problems", "check_structure", "is_structurally_valid"]

#: Smallest accepted periodic interatomic distance (Å).
MIN_DISTANCE_A: float = 0.5


def _image_distances(crystal: Crystal) -> Iterator[tuple[slice, np.ndarray]]:
    """Distances from each site to every site in the 5³ neighbouring cells, in row chunks.

    The search runs in the LLL-reduced basis of the lattice (nearly orthogonal, same
    lattice), so its cost does not depend on how large or skewed the given cell is: a
    generated cell hundreds of Å long costs the same as a small one (pymatgen's grid search
    allocated tens of GB there). An atom's distance to itself is inf; to its own images, not.

    Yields:
        (rows, distances): the sites of the chunk and their distances (Å). ``[r, n, 125]``
    """
    from pymatgen.core.lattice import Lattice

    reduced = np.array(Lattice(crystal.lattice).get_lll_reduced_lattice().matrix)  # [3, 3] Å, rows
    frac = np.mod(crystal.cart_coords @ np.linalg.inv(reduced), 1.0)
    cart = frac @ reduced  # [n, 3]
    images = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=float) @ reduced  # [125, 3]
    home = int(np.all(images == 0, axis=1).argmax())
    for first in range(0, len(cart), _ROWS_PER_CHUNK):
        rows = slice(first, min(first + _ROWS_PER_CHUNK, len(cart)))
        vectors = cart[None, :, None, :] + images[None, None, :, :] - cart[rows, None, None, :]  # [r, n, 125, 3]
        distances = np.linalg.norm(vectors, axis=-1)
        own = np.arange(rows.start, rows.stop)
        distances[own - rows.start, own, home] = np.inf
        yield rows, distances


def closest_pair(crystal: Crystal, cutoff: float) -> tuple[int, int, float] | None:
    """Return the closest pair of sites ``(i, j, distance_Å)`` closer than ``cutoff``, else None.

    Periodic images count: a site and its own image one lattice vector away form a pair
    (so a tiny cell is caught too).
    """
    best: tuple[int, int, float] | None = None
    for rows, distances in _image_distances(crystal):
        i, j, k = np.unravel_index(np.argmin(distances), distances.shape)
        if distances[i, j, k] < cutoff and (best is None or distances[i, j, k] < best[2]):
            best = (int(i + rows.start), int(j), float(distances[i, j, k]))
    return best


def tightest_contact(crystal: Crystal) -> tuple[int, int, float, float]:
    """The pair of sites closest relative to their covalent radii.

    The contact ratio of sites i, j at distance d (periodic images included) is
    d / (r_i + r_j) with the covalent radii r of Cordero et al. (Dalton Trans. 2008, as
    tabulated in ASE). Bonds in real solids have ratios from about 0.7 (the shortest
    metal-oxo bonds: V=O 1.58 Å in V₂O₅ is 0.72) upwards; rocksalt MgO is 1.02.

    Returns:
        ``(i, j, distance_Å, ratio)``; ratio inf for a single site in a huge cell.
    """
    from ase.data import covalent_radii

    radii = covalent_radii[crystal.atomic_numbers]  # [n] Å
    best = (0, 0, float("inf"), float("inf"))
    for rows, distances in _image_distances(crystal):
        ratios = distances / (radii[rows, None, None] + radii[None, :, None])  # [r, n, 125]
        i, j, k = np.unravel_index(np.argmin(ratios), ratios.shape)
        if ratios[i, j, k] < best[3]:
            best = (int(i + rows.start), int(j), float(distances[i, j, k]), float(ratios[i, j, k]))
    return best


_ROWS_PER_CHUNK = 32


def structural_problems(crystal: Crystal, min_distance: float = MIN_DISTANCE_A) -> list[str]:
    """List why ``crystal`` is not structurally valid (empty when it is)."""
    problems = []
    if crystal.volume <= MIN_VOLUME_A3:
        problems.append(f"cell volume {crystal.volume:.3g} Å³ is not above {MIN_VOLUME_A3} Å³")
    pair = closest_pair(crystal, min_distance)
    if pair is not None:
        i, j, distance = pair
        species = crystal.species
        problems.append(
            f"overlapping atoms: {species[i]}{i} and {species[j]}{j} are {distance:.3f} Å apart "
            f"(minimum {min_distance} Å)"
        )
    return problems


def is_structurally_valid(crystal: Crystal, min_distance: float = MIN_DISTANCE_A) -> bool:
    """True when all periodic distances exceed ``min_distance`` Å and the volume exceeds 0.1 Å³."""
    return not structural_problems(crystal, min_distance)


def check_structure(crystal: Crystal, min_distance: float = MIN_DISTANCE_A) -> Crystal:
    """Return ``crystal`` unchanged if structurally valid.

    Raises:
        InvalidCrystalError: naming every problem found.
    """
    problems = structural_problems(crystal, min_distance)
    if problems:
        raise InvalidCrystalError("; ".join(problems))
    return crystal
