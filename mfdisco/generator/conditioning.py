"""The quantum condition vector q = [q_DOS, q_ELF, q_response] from the labeller's PBE descriptors.

Each component is a plain number computed from the descriptors stored with a PBE label
(``mfdisco.labeller.descriptors``):

    q_gap_ev       band gap (eV), 0 for a metal;
    q_dos_fermi    DOS at the Fermi level (states / eV / atom);
    q_elf_mean     mean electron localisation function over the cell;
    q_elf_high     fraction of the cell volume with ELF > 0.7;
    q_screening    1 − 1/ε∞ from the independent-particle dielectric constant ε∞ (in [0, 1);
                   1 for a metal or a missing ε∞ of a metallic label).

The screening fraction keeps the response bounded (ε∞ of a metal at Γ is huge).
Structures without a PBE label get q from the descriptor proxy (``generator.proxy``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["QUANTUM_DESCRIPTORS", "quantum_vector"]


def _number(descriptors: Mapping[str, Any], key: str) -> float | None:
    value = descriptors.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _gap(d: Mapping[str, Any]) -> float | None:
    return 0.0 if d.get("metallic") else _number(d, "band_gap_ev")


def _screening(d: Mapping[str, Any]) -> float | None:
    epsilon = _number(d, "dielectric_ipa")
    if d.get("metallic") or (epsilon is None and _number(d, "dos_at_fermi")):
        return 1.0
    return None if epsilon is None else 1.0 - 1.0 / max(epsilon, 1.0)


#: Name → function of a PBE label's descriptors (None when the value is missing).
QUANTUM_DESCRIPTORS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "q_gap_ev": _gap,
    "q_dos_fermi": lambda d: _number(d, "dos_at_fermi"),
    "q_elf_mean": lambda d: _number(d, "elf_mean"),
    "q_elf_high": lambda d: _number(d, "elf_fraction_above_0_7"),
    "q_screening": _screening,
}


def quantum_vector(descriptors: Mapping[str, Any] | None, names: Sequence[str]) -> list[float] | None:
    """q of one PBE label in the order of ``names``; None when any component is missing.

    Raises:
        KeyError: an unknown descriptor name.
    """
    if not descriptors:
        return None
    values = []
    for name in names:
        if name not in QUANTUM_DESCRIPTORS:
            raise KeyError(f"unknown quantum descriptor {name!r}; known: {sorted(QUANTUM_DESCRIPTORS)}")
        value = QUANTUM_DESCRIPTORS[name](descriptors)
        if value is None:
            return None
        values.append(value)
    return values
