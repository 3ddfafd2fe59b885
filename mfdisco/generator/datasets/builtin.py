"""The built-in prototype set: sensible oxides and elements made from an element list.

No download: every structure is built from ionic radii and molar volumes that ship
with pymatgen and ASE. This is the embedded default dataset of the main job.

For the metals M of the element list and oxygen (when listed):
    - elements: fcc, bcc and hcp (ideal c/a) of every metal at its experimental molar
      volume (pymatgen ``Element.molar_volume``); ``ground_state`` marks the structure
      of ASE's reference state (Mn's α-Mn is not among them, so none is marked). O as
      an O₂ molecular crystal (d = 1.21 Å, cubic cell of 3.6 Å: intermolecular
      contacts of 3.07 Å, as in solid O₂).
    - rocksalt MO (M²⁺, octahedral);
    - cubic perovskites ABO₃ for every pair of oxidation states summing to 6
      (A 12-fold, B octahedral) with a Goldschmidt tolerance factor
      t = (r_A + r_O) / (√2 (r_B + r_O)) within [0.8, 1.1]; the cubic a is the mean of
      2 (r_B + r_O) and √2 (r_A + r_O), splitting the strain between both sites;
    - normal spinels AB₂O₄ (A²⁺ tetrahedral, B³⁺ octahedral; A = B allowed: Fe₃O₄);
    - fluorite MO₂ (M⁴⁺, 8-fold) and rutile MO₂ (M⁴⁺, octahedral).
Only oxidation states observed in the ICSD (pymatgen ``icsd_oxidation_states``) with a
Shannon radius (Shannon 1976, ionic, high spin where spin matters) at the needed
coordination are used; a combination without data is skipped and logged.
Bond length = r_cation + r_O with r_O at the oxygen's own coordination
(1.40 Å six-fold, 1.38 Å four-fold, 1.36 Å three-fold).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from itertools import product

from ase.data import atomic_numbers as ase_atomic_numbers
from ase.data import reference_states

from mfdisco.core import Crystal, atomic_number
from mfdisco.generator.datasets import prototypes
from mfdisco.generator.datasets.records import CrystalRecord, DatasetStream, PropertyValue

__all__ = ["DEFAULT_ELEMENTS", "builtin_prototypes", "read_builtin", "shannon_radius"]

logger = logging.getLogger(__name__)

#: The default element list of the built-in set (ISSUE: alkaline earths, 3d metals, Zn, O).
DEFAULT_ELEMENTS: tuple[str, ...] = ("Mg", "Ca", "Sr", "Ba", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Zn", "O")
SOURCE = "builtin"
_ANION = "O"
_O2_BOND = 1.21
_O2_CELL = 3.6
_TOLERANCE_RANGE = (0.8, 1.1)
_AVOGADRO = 6.02214076e23


def shannon_radius(element: str, oxidation_state: int, coordination: str) -> float | None:
    """Shannon ionic radius in Å, or None when the table has no entry.

    Args:
        element: symbol, e.g. ``"Fe"``.
        oxidation_state: e.g. ``3``; ``-2`` for oxide.
        coordination: Roman numeral, e.g. ``"VI"``.

    High spin is taken where the table distinguishes spin states.
    """
    from pymatgen.core import Species

    for spin in ("", "High Spin"):
        try:
            with warnings.catch_warnings():  # pymatgen warns when a spin-less ion is asked for a spin
                warnings.simplefilter("ignore", UserWarning)
                return float(Species(element, oxidation_state).get_shannon_radius(coordination, spin=spin))
        except (KeyError, ValueError):
            continue
    return None


def read_builtin(elements: Sequence[str] = DEFAULT_ELEMENTS) -> DatasetStream:
    """The built-in set as a dataset stream (see :func:`builtin_prototypes`)."""
    records = builtin_prototypes(elements)
    return DatasetStream(SOURCE, iter(records), len(records))


def builtin_prototypes(elements: Sequence[str] = DEFAULT_ELEMENTS) -> list[CrystalRecord]:
    """Build the prototype set over ``elements`` (module docstring).

    Raises:
        InvalidCrystalError: an entry of ``elements`` is not an element symbol.
    """
    symbols = list(dict.fromkeys(_normalise(e) for e in elements))
    metals = [s for s in symbols if s != _ANION]
    records = [r for metal in metals for r in _elemental(metal)]
    if _ANION in symbols:
        records.append(_record("molecular", prototypes.dimer_crystal(_ANION, _O2_BOND, _O2_CELL), {}))
        records.extend(_binary_oxides(metals, "rocksalt", prototypes.rocksalt, 2, "VI", "VI"))
        records.extend(_perovskites(metals))
        records.extend(_spinels(metals))
        records.extend(_binary_oxides(metals, "fluorite", prototypes.fluorite, 4, "VIII", "IV"))
        records.extend(_binary_oxides(metals, "rutile", prototypes.rutile, 4, "VI", "III"))
    logger.info("built-in prototype set: %d structures over %s", len(records), "-".join(symbols))
    return records


def _normalise(symbol: str) -> str:
    text = symbol.strip().capitalize()
    atomic_number(text)  # raises InvalidCrystalError naming an unknown symbol
    return text


def _record(prototype: str, crystal: Crystal, extra: dict[str, PropertyValue]) -> CrystalRecord:
    properties: dict[str, PropertyValue] = {
        "prototype": prototype,
        "volume_per_atom_A3": round(crystal.volume / crystal.num_sites, 4),
    }
    properties.update(extra)
    return CrystalRecord(crystal, SOURCE, f"{prototype}:{crystal.reduced_formula}", properties)


def _oxidation_states(element: str) -> tuple[int, ...]:
    from pymatgen.core import Element

    return tuple(Element(element).icsd_oxidation_states)


def _elemental(metal: str) -> Iterator[CrystalRecord]:
    from pymatgen.core import Element

    molar_volume = float(Element(metal).molar_volume)  # cm³/mol
    volume = molar_volume / _AVOGADRO * 1e24  # Å³ per atom
    ground = reference_states[ase_atomic_numbers[metal]] or {}
    builders: dict[str, Callable[[], Crystal]] = {
        "fcc": lambda: prototypes.fcc(metal, (4.0 * volume) ** (1 / 3) / math.sqrt(2.0)),
        "bcc": lambda: prototypes.bcc(metal, (2.0 * volume) ** (1 / 3) * math.sqrt(3.0) / 2.0),
        "hcp": lambda: prototypes.hcp(
            metal, (4.0 * volume / (math.sqrt(3.0) * prototypes.IDEAL_HCP_C_OVER_A)) ** (1 / 3)
        ),
    }
    for name, build in builders.items():
        extra: dict[str, PropertyValue] = {
            "molar_volume_cm3": molar_volume,
            "ground_state": ground.get("symmetry") == name,
        }
        yield _record(name, build(), extra)


def _perovskites(metals: list[str]) -> Iterator[CrystalRecord]:
    r_o = shannon_radius(_ANION, -2, "VI")
    for a_site, b_site in product(metals, metals):
        if a_site == b_site:
            continue
        for ox_a, ox_b in ((1, 5), (2, 4), (3, 3)):
            if ox_a not in _oxidation_states(a_site) or ox_b not in _oxidation_states(b_site):
                continue
            r_a = shannon_radius(a_site, ox_a, "XII")
            r_b = shannon_radius(b_site, ox_b, "VI")
            if r_a is None or r_b is None:
                continue
            tolerance = (r_a + r_o) / (math.sqrt(2.0) * (r_b + r_o))
            if not _TOLERANCE_RANGE[0] <= tolerance <= _TOLERANCE_RANGE[1]:
                continue
            a = 0.5 * (2.0 * (r_b + r_o) + math.sqrt(2.0) * (r_a + r_o))
            extra: dict[str, PropertyValue] = {
                "oxidation_states": f"{a_site}{ox_a}+ {b_site}{ox_b}+",
                "tolerance_factor": round(tolerance, 4),
            }
            yield _record("perovskite", prototypes.perovskite(a_site, b_site, _ANION, a / 2.0), extra)


def _spinels(metals: list[str]) -> Iterator[CrystalRecord]:
    r_o = shannon_radius(_ANION, -2, "IV")
    for a_site, b_site in product(metals, metals):
        if 2 not in _oxidation_states(a_site) or 3 not in _oxidation_states(b_site):
            continue
        r_a = shannon_radius(a_site, 2, "IV")
        r_b = shannon_radius(b_site, 3, "VI")
        if r_a is None or r_b is None:
            continue
        try:
            crystal = prototypes.spinel(a_site, b_site, _ANION, r_a + r_o, r_b + r_o)
        except ValueError as error:
            logger.debug("no spinel %s%s2O4: %s", a_site, b_site, error)
            continue
        _, u = prototypes.spinel_parameters(r_a + r_o, r_b + r_o)
        extra: dict[str, PropertyValue] = {"oxidation_states": f"{a_site}2+ {b_site}3+", "oxygen_u": round(u, 5)}
        yield _record("spinel", crystal, extra)


def _binary_oxides(
    metals: list[str],
    prototype: str,
    build: Callable[[str, str, float], Crystal],
    oxidation: int,
    cation_coordination: str,
    oxygen_coordination: str,
) -> Iterator[CrystalRecord]:
    """One binary oxide per metal with the oxidation state and a radius at the coordination."""
    r_o = shannon_radius(_ANION, -2, oxygen_coordination)
    for metal in metals:
        r = shannon_radius(metal, oxidation, cation_coordination) if oxidation in _oxidation_states(metal) else None
        if r is None:
            logger.debug("no %s oxide of %s%d+: no %s-fold radius", prototype, metal, oxidation, cation_coordination)
            continue
        yield _record(prototype, build(metal, _ANION, r + r_o), {"oxidation_states": f"{metal}{oxidation}+"})
