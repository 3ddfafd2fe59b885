"""A cheap structure fingerprint for diversity: composition plus the radial distribution.

    f(x) = [c(x), g(x) / ‖g(x)‖]

c: atomic fractions over Z = 1..94 (sums to 1); g: the radial distribution function of
all atom pairs (periodic images included) on 0.5-6 Å in 0.1 Å bins, each pair a Gaussian
of width 0.1 Å, divided by 4πr²ρ so that cells of the same structure at any size give the
same g. Both parts have unit scale, so a Euclidean distance near 0 means the same
composition and local geometry and ~1.4 means nothing in common. The fingerprint is
invariant to rotations, translations, permutations and the choice of (super)cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from mfdisco.core import Crystal

__all__ = ["structure_fingerprint", "fingerprints", "FINGERPRINT_SIZE"]

_MAX_Z = 94
_RADII = np.arange(0.5, 6.0 + 1e-9, 0.1)  # [n_bins] Å
_WIDTH = 0.1
FINGERPRINT_SIZE = _MAX_Z + len(_RADII)


def structure_fingerprint(crystal: Crystal) -> NDArray[np.float64]:
    """[FINGERPRINT_SIZE] fingerprint of one crystal (see the module docstring)."""
    from matscipy.neighbours import neighbour_list

    composition = np.zeros(_MAX_Z)
    for z in crystal.atomic_numbers:
        composition[min(int(z), _MAX_Z) - 1] += 1.0 / crystal.num_sites
    distances = neighbour_list("d", positions=crystal.cart_coords, cell=crystal.lattice, pbc=[True] * 3, cutoff=float(_RADII[-1] + 3 * _WIDTH))
    density = crystal.num_sites / crystal.volume  # atoms / Å³
    smeared = np.exp(-0.5 * ((_RADII[:, None] - distances[None, :]) / _WIDTH) ** 2).sum(axis=1)  # [n_bins]
    rdf = smeared / (crystal.num_sites * 4 * np.pi * _RADII**2 * density * _WIDTH * np.sqrt(2 * np.pi))
    norm = np.linalg.norm(rdf)
    return np.concatenate([composition, rdf / norm if norm > 0 else rdf])


def fingerprints(crystals: Sequence[Crystal]) -> NDArray[np.float64]:
    """[N, FINGERPRINT_SIZE] fingerprints of ``crystals``."""
    if not crystals:
        return np.zeros((0, FINGERPRINT_SIZE))
    return np.stack([structure_fingerprint(c) for c in crystals])
