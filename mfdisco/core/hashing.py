"""Canonical hash of a crystal, for exact deduplication.

Two descriptions of the same periodic structure get the same hash whatever their
translation (origin), the order of their sites, the supercell chosen or the lattice
setting (basis vectors, orientation of the Cartesian frame). Different structures get
different hashes (to the rounding resolution below).

Algorithm:
    1. spglib finds the *primitive standardized* cell at ``symprec`` (Å), keeping the
       positions as given (not idealized). This removes supercells; the orientation
       never matters because only the metric and fractional coordinates are used.
    2. The primitive lattice is Niggli-reduced (pymatgen), which fixes the basis up to
       the lattice's own automorphisms: the integer unimodular matrices ``M`` with
       ``M G Mᵀ = G`` for the metric ``G = L Lᵀ`` (at most 48 in 3-D, improper ones
       included, so mirror-image settings and enantiomorphs hash alike).
    3. For every automorphism and every site of the *anchor* species (the rarest
       element, then the lightest), the coordinates are re-expressed in that basis,
       shifted so that the anchor sits at the origin, wrapped, rounded onto a grid of
       1/960 and sorted by (Z, x, y, z). The lexicographically smallest list is the
       canonical site list: independent of translation and site order.
    4. The hash is SHA-256 of the canonical sites plus the Niggli lattice parameters
       (a, b, c rounded to 1 mÅ; α, β, γ to 0.01°).

The grid 1/960 is a multiple of 48, so the fractions of special Wyckoff positions
(n/2, n/3, n/4, n/6, n/8, n/12, n/16, n/24, n/48) fall on grid points and never on a
rounding boundary. Positions are not symmetrized on purpose: spglib's symmetrized
positions of a cell and of its supercell differ by ~1e-4 in near-symmetric cells, and
such noise straddles rounding boundaries (seen on the Mg-Mn-O set), whereas exact
duplicates agree to ~1e-15. Resolution: 1/960 of a lattice vector (about 5 mÅ in a
5 Å cell). The hash finds exact duplicates (the same structure written differently);
near-duplicates (two relaxations of one structure) are the job of pymatgen's
``StructureMatcher``, a separate, later step.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import warnings
from functools import lru_cache

import numpy as np

os.environ.setdefault("SPGLIB_WARNING", "OFF")  # spglib's C code prints retries to stderr otherwise
import spglib  # noqa: E402
from pymatgen.core import Lattice

from mfdisco.core.crystal import Crystal

__all__ = ["canonical_hash", "primitive_standard_cell", "HASH_VERSION", "DEFAULT_SYMPREC"]

#: Bump when the algorithm changes; stored hashes of another version are not comparable.
HASH_VERSION: int = 1
#: spglib symmetry tolerance (Å).
DEFAULT_SYMPREC: float = 0.01
_GRID: int = 960
_METRIC_RTOL: float = 1e-4


def primitive_standard_cell(crystal: Crystal, symprec: float = DEFAULT_SYMPREC) -> Crystal:
    """Return spglib's primitive standardized cell, positions as given (not idealized).

    Falls back to the input cell when spglib finds no symmetry solution (which happens
    for pathological cells, e.g. overlapping atoms).
    """
    cell = (np.array(crystal.lattice), np.array(crystal.frac_coords), np.array(crystal.atomic_numbers))
    with warnings.catch_warnings():  # spglib 2.5+ warns about its legacy None-on-error mode
        warnings.simplefilter("ignore", DeprecationWarning)
        result = spglib.standardize_cell(cell, to_primitive=True, no_idealize=True, symprec=symprec)
    if result is None:
        return crystal
    lattice, positions, numbers = result
    return Crystal(np.asarray(lattice), np.asarray(positions), np.asarray(numbers))


def canonical_hash(crystal: Crystal, symprec: float = DEFAULT_SYMPREC) -> str:
    """Return the canonical SHA-256 hex digest of ``crystal`` (see module docstring).

    Args:
        crystal: the structure.
        symprec: spglib's symmetry tolerance in Å, used to find the primitive cell
            (a supercell whose copies differ by less than this reduces to one cell).
    """
    primitive = primitive_standard_cell(crystal, symprec)
    niggli = Lattice(primitive.lattice).get_niggli_reduced_lattice()
    niggli_matrix = np.array(niggli.matrix)  # [3, 3]
    # Same Cartesian frame: cart = f_prim @ L_prim = f_niggli @ L_niggli.
    frac = primitive.cart_coords @ np.linalg.inv(niggli_matrix)  # [n_sites, 3]
    sites = _canonical_sites(frac, primitive.atomic_numbers, _automorphisms(niggli_matrix))
    a, b, c, alpha, beta, gamma = niggli.parameters
    payload = {
        "version": HASH_VERSION,
        "lengths_mA": [int(round(x * 1000.0)) for x in (a, b, c)],
        "angles_cdeg": [int(round(x * 100.0)) for x in (alpha, beta, gamma)],
        "sites": sites.tolist(),
    }
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _canonical_sites(frac: np.ndarray, numbers: np.ndarray, automorphisms: np.ndarray) -> np.ndarray:
    """Smallest sorted site code list over automorphisms and anchor origins.

    Args:
        frac: fractional coordinates in the Niggli basis. ``[n_sites, 3]``
        numbers: atomic numbers. ``[n_sites]``
        automorphisms: integer basis changes preserving the metric. ``[n_ops, 3, 3]``

    Returns:
        Sorted integer codes, one per site (Z and grid coordinates packed). ``[n_sites]``
    """
    elements, counts = np.unique(numbers, return_counts=True)
    anchor_z = elements[np.lexsort((elements, counts))[0]]
    anchors = np.flatnonzero(numbers == anchor_z)
    # f' = f @ inv(M) for each new basis M @ L.
    transformed = np.einsum("nj,mjk->mnk", frac, np.linalg.inv(automorphisms))  # [n_ops, n_sites, 3]
    shifted = transformed[:, None, :, :] - transformed[:, anchors, None, :]  # [n_ops, n_anchor, n_sites, 3]
    grid = np.rint(shifted * _GRID).astype(np.int64) % _GRID
    codes = ((numbers.astype(np.int64) * _GRID + grid[..., 0]) * _GRID + grid[..., 1]) * _GRID + grid[..., 2]
    codes = np.sort(codes.reshape(-1, numbers.shape[0]), axis=1)  # [n_candidates, n_sites]
    best = np.lexsort(codes.T[::-1])[0]
    return codes[best]


def _automorphisms(lattice: np.ndarray) -> np.ndarray:
    """Integer matrices M (entries -1, 0, 1; |det| = 1) with M G Mᵀ = G for G = L Lᵀ.

    For a Niggli-reduced basis the lattice's symmetry operations have entries in
    {-1, 0, 1}. Row i of M must be a lattice vector as long as basis vector i, so the
    26 short vectors are filtered by length first and only their combinations are
    tested. The identity is always among the result. ``[n_ops, 3, 3]``
    """
    metric = lattice @ lattice.T
    tolerance = _METRIC_RTOL * float(np.max(np.abs(metric)))
    vectors = _short_vectors()  # [26, 3]
    lengths = np.einsum("vi,ij,vj->v", vectors, metric, vectors)  # squared lengths, Å²
    rows = [vectors[np.abs(lengths - metric[i, i]) <= tolerance] for i in range(3)]
    picks = np.meshgrid(*(np.arange(len(r)) for r in rows), indexing="ij")
    candidates = np.stack([rows[i][picks[i].ravel()] for i in range(3)], axis=1)  # [n, 3, 3]
    candidates = candidates[np.abs(np.abs(np.linalg.det(candidates)) - 1.0) < 1e-6]
    mapped = candidates @ metric @ candidates.transpose(0, 2, 1)
    keep = np.all(np.abs(mapped - metric) <= tolerance, axis=(1, 2))
    return candidates[keep]


@lru_cache(maxsize=1)
def _short_vectors() -> np.ndarray:
    """The 26 non-zero integer vectors with entries in {-1, 0, 1}, as floats. ``[26, 3]``"""
    vectors = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)
    return vectors[np.any(vectors != 0, axis=1)]
