"""Structural validity: the field's geometric sanity checks on a crystal.

DESIGN.md (evaluation protocols): a structure is structurally valid when every periodic
interatomic distance exceeds 0.5 Å and the cell volume exceeds 0.1 Å³. The volume bound
is enforced when a :class:`~mfdisco.core.crystal.Crystal` is built; the distance bound
is checked here because generated structures must be representable (and counted as
invalid) rather than refused.
"""

from __future__ import annotations

import itertools

import numpy as np

from mfdisco.core.crystal import MIN_VOLUME_A3, Crystal
from mfdisco.core.errors import InvalidCrystalError

__all__ = ["MIN_DISTANCE_A", "closest_pair", "structural_problems", "check_structure", "is_structurally_valid"]

#: Smallest accepted periodic interatomic distance (Å).
MIN_DISTANCE_A: float = 0.5


def closest_pair(crystal: Crystal, cutoff: float) -> tuple[int, int, float] | None:
    """Return the closest pair of sites ``(i, j, distance_Å)`` closer than ``cutoff``, else None.

    Periodic images count: a site and its own image one lattice vector away form a pair
    (so a tiny cell is caught too). The search runs in the LLL-reduced basis of the
    lattice (nearly orthogonal, same lattice), over the 5³ neighbouring cells, so its cost
    does not depend on how large or skewed the given cell is: a generated cell hundreds of
    Å long costs the same as a small one (pymatgen's grid search allocated tens of GB there).
    """
    from pymatgen.core.lattice import Lattice

    reduced = np.array(Lattice(crystal.lattice).get_lll_reduced_lattice().matrix)  # [3, 3] Å, rows
    frac = np.mod(crystal.cart_coords @ np.linalg.inv(reduced), 1.0)
    cart = frac @ reduced  # [n, 3]
    images = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=float) @ reduced  # [125, 3]
    best: tuple[int, int, float] | None = None
    for first in range(0, len(cart), _ROWS_PER_CHUNK):
        rows = slice(first, first + _ROWS_PER_CHUNK)
        vectors = cart[None, :, None, :] + images[None, None, :, :] - cart[rows, None, None, :]  # [r, n, 125, 3]
        distances = np.linalg.norm(vectors, axis=-1)
        own = np.arange(rows.start, min(rows.stop, len(cart)))
        distances[own - rows.start, own, np.all(images == 0, axis=1).argmax()] = np.inf  # an atom and itself
        i, j, k = np.unravel_index(np.argmin(distances), distances.shape)
        if distances[i, j, k] < cutoff and (best is None or distances[i, j, k] < best[2]):
            best = (int(i + rows.start), int(j), float(distances[i, j, k]))
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
