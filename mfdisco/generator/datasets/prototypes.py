"""Crystal prototypes built from bond lengths.

Each builder takes the cation-anion (or metal-metal) bond length that the structure
should have, in Å, and returns the primitive cell with the lattice parameters that
give that bond length. The bond lengths come from ionic radii (see
:mod:`mfdisco.generator.datasets.builtin`); the geometry of each prototype is here.

Prototypes (Strukturbericht designation, space group):
    rocksalt AX (B1, Fm-3m): a = 2 d(A-X).
    cesium chloride AX (B2, Pm-3m): a = 2 d(A-X) / √3 (cubic 8-fold A and X).
    zincblende AX (B3, F-43m): a = 4 d(A-X) / √3 (tetrahedral A and X).
    cubic perovskite ABX3 (E2₁, Pm-3m): a = 2 d(B-X) (octahedral B).
    normal spinel AB2X4 (H1₁, Fd-3m): A tetrahedral at 8a, B octahedral at 16d,
        X at 32e (u, u, u) in origin choice 2; d(A-X) = a √3 (u - 1/8) and
        d(B-X) = a √(3u² - 2u + 3/8), solved for a and u.
    fluorite AX2 (C1, Fm-3m): a = 4 d(A-X) / √3 (cubic 8-fold A).
    rutile AX2 (C4, P4₂/mnm): c/a fixed, u = 1/4 + (c/a)²/8 makes the six A-X bonds
        equal, a = d(A-X) / (√2 u).
    fcc, bcc, hcp metals: a = √2 d, a = 2 d / √3, a = d with c/a given.
    O2 molecular crystal: one dimer along [111] of a simple-cubic cell.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from mfdisco.core import Crystal

__all__ = [
    "rocksalt",
    "cesium_chloride",
    "zincblende",
    "perovskite",
    "spinel",
    "spinel_parameters",
    "fluorite",
    "rutile",
    "fcc",
    "bcc",
    "hcp",
    "dimer_crystal",
    "IDEAL_HCP_C_OVER_A",
    "RUTILE_C_OVER_A",
]

IDEAL_HCP_C_OVER_A: float = math.sqrt(8.0 / 3.0)
#: c/a of rutile TiO2 (0.644); used for every rutile prototype.
RUTILE_C_OVER_A: float = 0.644


def _fcc_primitive(a: float) -> np.ndarray:
    """Primitive vectors of a face-centred cubic lattice with cubic parameter a (Å). ``[3, 3]``"""
    return 0.5 * a * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def _from_conventional(fractional_in_conventional: list[list[float]], a: float, species: list[str]) -> Crystal:
    """Express positions given in the cubic conventional cell in the fcc primitive cell."""
    lattice = _fcc_primitive(a)
    cart = np.asarray(fractional_in_conventional) * a
    return Crystal.from_species(lattice, species, cart @ np.linalg.inv(lattice))


def rocksalt(cation: str, anion: str, bond: float) -> Crystal:
    """Rocksalt AX, 2 atoms; ``bond`` = d(A-X) in Å."""
    return _from_conventional([[0, 0, 0], [0.5, 0.5, 0.5]], 2.0 * bond, [cation, anion])


def cesium_chloride(cation: str, anion: str, bond: float) -> Crystal:
    """Cesium chloride AX (B2), 2 atoms; ``bond`` = d(A-X) in Å along the cube diagonal, a = 2 d / √3."""
    a = 2.0 * bond / math.sqrt(3.0)
    return Crystal.from_species(np.eye(3) * a, [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])


def zincblende(cation: str, anion: str, bond: float) -> Crystal:
    """Zincblende AX (B3), 2 atoms; ``bond`` = d(A-X) in Å, a = 4 d / √3."""
    return _from_conventional([[0, 0, 0], [0.25, 0.25, 0.25]], 4.0 * bond / math.sqrt(3.0), [cation, anion])


def perovskite(a_site: str, b_site: str, anion: str, bond_b: float) -> Crystal:
    """Cubic perovskite ABX3, 5 atoms; ``bond_b`` = d(B-X) in Å, a = 2 d(B-X)."""
    a = 2.0 * bond_b
    frac = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]
    return Crystal.from_species(np.eye(3) * a, [a_site, b_site, anion, anion, anion], frac)


def spinel_parameters(bond_tetrahedral: float, bond_octahedral: float) -> tuple[float, float]:
    """Cubic lattice parameter a (Å) and oxygen parameter u of a normal spinel.

    Solves d(A-X) = a √3 (u - 1/8) and d(B-X) = a √(3u² - 2u + 3/8) (origin choice 2)
    for u in (0.2, 0.3) and a.

    Raises:
        ValueError: if the two bond lengths admit no spinel geometry in that range.
    """
    ratio = bond_octahedral / bond_tetrahedral

    def mismatch(u: float) -> float:
        return math.sqrt(3 * u * u - 2 * u + 0.375) / (math.sqrt(3.0) * (u - 0.125)) - ratio

    try:
        u = brentq(mismatch, 0.2, 0.3)
    except ValueError:
        raise ValueError(
            f"no spinel geometry for d(A-X) = {bond_tetrahedral:.3f} Å and d(B-X) = {bond_octahedral:.3f} Å"
        ) from None
    return bond_tetrahedral / (math.sqrt(3.0) * (u - 0.125)), u


def spinel(a_site: str, b_site: str, anion: str, bond_tetrahedral: float, bond_octahedral: float) -> Crystal:
    """Normal spinel AB2X4, primitive cell of 14 atoms (2 A, 4 B, 8 X).

    Orbits from pymatgen's Fd-3m, which uses origin choice 1: A at 8a (0, 0, 0),
    B at 16d (5/8, 5/8, 5/8), X at 32e (x, x, x) with x = u + 1/8.
    """
    from pymatgen.core import Lattice, Structure

    a, u = spinel_parameters(bond_tetrahedral, bond_octahedral)
    group = _space_group("Fd-3m")
    species: list[str] = []
    frac: list[np.ndarray] = []
    for element, site in ((a_site, [0.0] * 3), (b_site, [5 / 8] * 3), (anion, [u + 1 / 8] * 3)):
        orbit = group.get_orbit(site)
        species += [element] * len(orbit)
        frac += orbit
    conventional = Structure(Lattice.cubic(a), species, frac)
    return Crystal.from_pymatgen(conventional.get_primitive_structure())


@lru_cache(maxsize=4)
def _space_group(symbol: str):  # pymatgen SpaceGroup; building one takes about a second
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup(symbol)


def fluorite(cation: str, anion: str, bond: float) -> Crystal:
    """Fluorite AX2, 3 atoms; ``bond`` = d(A-X) in Å, a = 4 d / √3."""
    a = 4.0 * bond / math.sqrt(3.0)
    return _from_conventional([[0, 0, 0], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], a, [cation, anion, anion])


def rutile(cation: str, anion: str, bond: float, c_over_a: float = RUTILE_C_OVER_A) -> Crystal:
    """Rutile AX2, 6 atoms, with six equal A-X bonds of length ``bond`` (Å)."""
    u = 0.25 + c_over_a**2 / 8.0
    a = bond / (math.sqrt(2.0) * u)
    lattice = np.diag([a, a, a * c_over_a])
    frac = [[0, 0, 0], [0.5, 0.5, 0.5], [u, u, 0], [1 - u, 1 - u, 0], [0.5 + u, 0.5 - u, 0.5], [0.5 - u, 0.5 + u, 0.5]]
    return Crystal.from_species(lattice, [cation, cation] + [anion] * 4, frac)


def fcc(element: str, bond: float) -> Crystal:
    """Face-centred cubic metal, 1 atom; ``bond`` = nearest-neighbour distance (Å)."""
    return Crystal.from_species(_fcc_primitive(math.sqrt(2.0) * bond), [element], [[0, 0, 0]])


def bcc(element: str, bond: float) -> Crystal:
    """Body-centred cubic metal, 1 atom; ``bond`` = nearest-neighbour distance (Å)."""
    a = 2.0 * bond / math.sqrt(3.0)
    lattice = 0.5 * a * np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, -1.0]])
    return Crystal.from_species(lattice, [element], [[0, 0, 0]])


def hcp(element: str, bond: float, c_over_a: float = IDEAL_HCP_C_OVER_A) -> Crystal:
    """Hexagonal close-packed metal, 2 atoms; ``bond`` = in-plane distance a (Å)."""
    a = bond
    lattice = np.array([[a, 0.0, 0.0], [-a / 2, a * math.sqrt(3.0) / 2, 0.0], [0.0, 0.0, a * c_over_a]])
    return Crystal.from_species(lattice, [element, element], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])


def dimer_crystal(element: str, bond: float, cell: float) -> Crystal:
    """A dimer of bond length ``bond`` (Å) along [111] of a cubic cell of edge ``cell`` (Å)."""
    delta = bond / (2.0 * math.sqrt(3.0) * cell)
    frac = [[0.5 - delta] * 3, [0.5 + delta] * 3]
    return Crystal.from_species(np.eye(3) * cell, [element, element], frac)
