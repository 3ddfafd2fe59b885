"""Structural validity: the field's geometric sanity checks on a crystal.

DESIGN.md (evaluation protocols): a structure is structurally valid when every periodic
interatomic distance exceeds 0.5 Å and the cell volume exceeds 0.1 Å³. The volume bound
is enforced when a :class:`~mfdisco.core.crystal.Crystal` is built; the distance bound
is checked here because generated structures must be representable (and counted as
invalid) rather than refused.
"""

from __future__ import annotations

import numpy as np

from mfdisco.core.crystal import MIN_VOLUME_A3, Crystal
from mfdisco.core.errors import InvalidCrystalError

__all__ = ["MIN_DISTANCE_A", "closest_pair", "structural_problems", "check_structure", "is_structurally_valid"]

#: Smallest accepted periodic interatomic distance (Å).
MIN_DISTANCE_A: float = 0.5


def closest_pair(crystal: Crystal, cutoff: float) -> tuple[int, int, float] | None:
    """Return the closest pair of sites ``(i, j, distance_Å)`` closer than ``cutoff``, else None.

    Periodic images count: a site and its own image one lattice vector away form a pair
    (so a tiny cell is caught too). Uses pymatgen's neighbour list.
    """
    centers, neighbors, _images, distances = crystal.to_pymatgen().get_neighbor_list(r=cutoff)
    if len(distances) == 0:
        return None
    k = int(np.argmin(distances))
    return int(centers[k]), int(neighbors[k]), float(distances[k])


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
