"""The periodic crystal every folder of mfdisco passes around.

A :class:`Crystal` is an ordered, fully occupied periodic structure: a lattice, the
fractional coordinates of the sites and their atomic numbers. It is immutable and
validated on construction, and converts to and from pymatgen ``Structure`` and ASE
``Atoms`` (the libraries that do the crystallography; nothing here re-implements them).
"""

from __future__ import annotations

from collections.abc import Sequence

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from ase.data import atomic_masses, chemical_symbols

from mfdisco.core.errors import InvalidCrystalError
from mfdisco.core.units import AMU_PER_A3_TO_G_PER_CM3

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = ["Crystal", "MIN_VOLUME_A3", "atomic_number", "element_symbols", "element_symbol"]

#: Smallest cell volume accepted (Å³); DESIGN.md's structural-validity bound.
MIN_VOLUME_A3: float = 0.1
#: Largest atomic number with a known element (oganesson).
_MAX_Z: int = 118


def atomic_number(symbol: str) -> int:
    """Return the atomic number of an element symbol such as ``"Mg"``.

    Raises:
        InvalidCrystalError: if ``symbol`` names no element.
    """
    try:
        z = chemical_symbols.index(symbol.strip().capitalize())
    except ValueError:
        raise InvalidCrystalError(f"unknown element {symbol!r}") from None
    if z == 0:
        raise InvalidCrystalError(f"unknown element {symbol!r}")
    return z


def element_symbols(value: str | Sequence[str]) -> list[str]:
    """Element symbols from ``"Mg, O"`` or ``["mg", "O"]``: stripped, capitalised, order kept.

    Raises:
        InvalidCrystalError: naming an unknown symbol.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    symbols = [str(part).strip().capitalize() for part in parts if str(part).strip()]
    for symbol in symbols:
        atomic_number(symbol)
    return symbols


def element_symbol(z: int) -> str:
    """Return the element symbol of atomic number ``z`` (1-118).

    Raises:
        InvalidCrystalError: if ``z`` is not an element's atomic number.
    """
    if not 1 <= int(z) <= _MAX_Z:
        raise InvalidCrystalError(f"unknown element: atomic number {z} is outside 1-{_MAX_Z}")
    return chemical_symbols[int(z)]


@dataclass(frozen=True, eq=False)
class Crystal:
    """An ordered periodic crystal.

    Attributes:
        lattice: lattice vectors as rows, Å. ``[3, 3]``
        frac_coords: fractional coordinates of the sites, wrapped into [0, 1). ``[n_sites, 3]``
        atomic_numbers: atomic number of each site. ``[n_sites]``

    Construction validates the input: finite numbers, a lattice whose cell volume
    ``|det(lattice)|`` exceeds :data:`MIN_VOLUME_A3`, at least one site, consistent
    shapes and known elements. Arrays are copied and made read-only.

    Raises:
        InvalidCrystalError: naming the problem.
    """

    lattice: np.ndarray
    frac_coords: np.ndarray
    atomic_numbers: np.ndarray

    def __post_init__(self) -> None:
        lattice = _as_float_array(self.lattice, "lattice")
        if lattice.shape != (3, 3):
            raise InvalidCrystalError(f"lattice must be 3x3, got shape {lattice.shape}")
        frac = _as_float_array(self.frac_coords, "frac_coords")
        if frac.ndim == 1 and frac.size == 3:
            frac = frac.reshape(1, 3)
        if frac.ndim != 2 or frac.shape[1] != 3:
            raise InvalidCrystalError(f"frac_coords must be (N, 3), got shape {frac.shape}")
        if frac.shape[0] < 1:
            raise InvalidCrystalError("a crystal needs at least one site (N >= 1), got 0")
        numbers = np.asarray(self.atomic_numbers)
        if numbers.ndim != 1 or numbers.shape[0] != frac.shape[0]:
            raise InvalidCrystalError(
                f"atomic_numbers must be ({frac.shape[0]},) to match frac_coords, got shape {numbers.shape}"
            )
        if numbers.dtype.kind not in "iu":
            if numbers.dtype.kind != "f" or not np.all(np.isfinite(numbers)) or np.any(numbers != np.round(numbers)):
                raise InvalidCrystalError(f"atomic_numbers must be integers, got {numbers.tolist()}")
        numbers = numbers.astype(np.int64)
        bad = numbers[(numbers < 1) | (numbers > _MAX_Z)]
        if bad.size:
            raise InvalidCrystalError(f"unknown element: atomic number {int(bad[0])} is outside 1-{_MAX_Z}")
        volume = abs(float(np.linalg.det(lattice)))
        if not volume > MIN_VOLUME_A3:
            raise InvalidCrystalError(
                f"singular or degenerate lattice: cell volume {volume:.3g} Å³ is not above {MIN_VOLUME_A3} Å³"
            )
        wrapped = frac - np.floor(frac)
        wrapped[wrapped >= 1.0] = 0.0  # floor of values a hair below an integer
        for name, array in (("lattice", lattice), ("frac_coords", wrapped), ("atomic_numbers", numbers)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    # ------------------------------------------------------------------ derived values
    @property
    def num_sites(self) -> int:
        """Number of sites N."""
        return int(self.atomic_numbers.shape[0])

    @property
    def volume(self) -> float:
        """Cell volume in Å³."""
        return abs(float(np.linalg.det(self.lattice)))

    @property
    def cart_coords(self) -> np.ndarray:
        """Cartesian positions in Å. ``[n_sites, 3]``"""
        return self.frac_coords @ self.lattice

    @property
    def species(self) -> list[str]:
        """Element symbol of each site, in site order."""
        return [chemical_symbols[z] for z in self.atomic_numbers]

    @property
    def elements(self) -> list[str]:
        """Distinct element symbols, sorted alphabetically."""
        return sorted({chemical_symbols[z] for z in self.atomic_numbers})

    @property
    def chemical_system(self) -> str:
        """Elements joined by dashes in alphabetical order, e.g. ``"Mg-Mn-O"``."""
        return "-".join(self.elements)

    @cached_property
    def reduced_formula(self) -> str:
        """Reduced formula, elements by electronegativity, e.g. ``"MgO"``, ``"MgFe2O4"``.

        Plain element-count form (pymatgen's ``reduced_formula`` would write
        polyanions, ``"Mg(FeO2)2"``, which is awkward to query in SQL).
        """
        parts = self._composition.reduced_composition.formula.split()
        return "".join(part[:-1] if part.endswith("1") and not part[-2].isdigit() else part for part in parts)

    @cached_property
    def formula(self) -> str:
        """Full formula of the cell, e.g. ``"Mg4 O4"``."""
        return self._composition.formula

    @cached_property
    def _composition(self):  # pymatgen Composition; imported lazily, it is heavy
        from pymatgen.core import Composition

        return Composition(dict(zip(*np.unique(self.species, return_counts=True), strict=True)))

    @property
    def density(self) -> float:
        """Mass density in g/cm³."""
        mass = float(np.sum(atomic_masses[self.atomic_numbers]))
        return mass / self.volume * AMU_PER_A3_TO_G_PER_CM3

    @property
    def lattice_parameters(self) -> tuple[float, float, float, float, float, float]:
        """Lattice lengths a, b, c (Å) and angles α, β, γ (degrees)."""
        a, b, c = (float(np.linalg.norm(v)) for v in self.lattice)
        va, vb, vc = self.lattice

        def angle(u: np.ndarray, v: np.ndarray) -> float:
            cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
            return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))

        return a, b, c, angle(vb, vc), angle(va, vc), angle(va, vb)

    # ------------------------------------------------------------------ comparisons
    def allclose(self, other: Crystal, atol: float = 1e-6) -> bool:
        """True when lattice, site order, species and (periodic) coordinates agree within ``atol``."""
        if self.num_sites != other.num_sites or not np.array_equal(self.atomic_numbers, other.atomic_numbers):
            return False
        if not np.allclose(self.lattice, other.lattice, atol=atol):
            return False
        delta = self.frac_coords - other.frac_coords
        delta -= np.round(delta)
        return bool(np.allclose(delta, 0.0, atol=atol))

    def canonical_hash(self) -> str:
        """Hash identical for the same structure in any setting; see :mod:`mfdisco.core.hashing`."""
        from mfdisco.core.hashing import canonical_hash

        return canonical_hash(self)

    def __repr__(self) -> str:
        a, b, c, alpha, beta, gamma = self.lattice_parameters
        return (
            f"Crystal({self.formula}, {self.num_sites} sites, a={a:.3f} b={b:.3f} c={c:.3f} Å, "
            f"α={alpha:.1f} β={beta:.1f} γ={gamma:.1f}°)"
        )

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_species(
        cls, lattice: np.ndarray | list, species: list[str] | list[int], frac_coords: np.ndarray | list
    ) -> Crystal:
        """Build from element symbols (or atomic numbers) instead of an array of numbers."""
        numbers = [s if isinstance(s, int | np.integer) else atomic_number(str(s)) for s in species]
        return cls(np.asarray(lattice, dtype=float), np.asarray(frac_coords, dtype=float), np.asarray(numbers))

    def to_pymatgen(self) -> Structure:
        """Return a pymatgen ``Structure`` with the same lattice, sites and order."""
        from pymatgen.core import Lattice, Structure

        return Structure(Lattice(self.lattice), self.species, self.frac_coords, coords_are_cartesian=False)

    @classmethod
    def from_pymatgen(cls, structure: Structure) -> Crystal:
        """Build from a pymatgen ``Structure`` (or ``IStructure``).

        Raises:
            InvalidCrystalError: if a site is disordered (partial or mixed occupancy),
                holds a dummy species, or the structure is otherwise invalid.
        """
        if not structure.is_ordered:
            raise InvalidCrystalError(
                "disordered structure (partial or mixed site occupancy) is not supported; "
                "order it first, e.g. with pymatgen's OrderDisorderedStructureTransformation"
            )
        numbers = []
        for index, site in enumerate(structure):
            specie = site.specie
            z = getattr(specie, "Z", None)
            if z is None or not getattr(specie, "symbol", "") or type(specie).__name__.startswith("Dummy"):
                raise InvalidCrystalError(f"unknown element {str(specie)!r} at site {index}")
            numbers.append(int(z))
        return cls(np.array(structure.lattice.matrix), np.array(structure.frac_coords), np.array(numbers))

    def to_ase(self) -> Atoms:
        """Return periodic ASE ``Atoms`` (pbc on all three axes)."""
        from ase import Atoms

        return Atoms(numbers=self.atomic_numbers, cell=self.lattice, scaled_positions=self.frac_coords, pbc=True)

    @classmethod
    def from_ase(cls, atoms: Atoms) -> Crystal:
        """Build from ASE ``Atoms``; requires a 3-D periodic cell.

        Raises:
            InvalidCrystalError: if the atoms are not periodic in all three directions
                or the cell is invalid.
        """
        if not np.all(atoms.pbc):
            raise InvalidCrystalError(f"ASE Atoms must be periodic along all three axes, got pbc={atoms.pbc.tolist()}")
        return cls(np.array(atoms.cell[:]), atoms.get_scaled_positions(wrap=False), np.array(atoms.numbers))

    # ------------------------------------------------------------------ plain values for storage
    def to_dict(self) -> dict[str, list]:
        """Plain JSON-ready dict: ``lattice`` (Å), ``frac_coords``, ``atomic_numbers``."""
        return {
            "lattice": self.lattice.tolist(),
            "frac_coords": self.frac_coords.tolist(),
            "atomic_numbers": self.atomic_numbers.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Crystal:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                np.asarray(data["lattice"], dtype=float),
                np.asarray(data["frac_coords"], dtype=float),
                np.asarray(data["atomic_numbers"]),
            )
        except KeyError as missing:
            raise InvalidCrystalError(f"crystal dict lacks the key {missing}") from None


def _as_float_array(value: object, name: str) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidCrystalError(f"{name} is not numeric: {error}") from None
    if not np.all(np.isfinite(array)):
        raise InvalidCrystalError(f"{name} holds non-finite numbers (NaN or inf)")
    return array
