"""Formation energies and energies above the convex hull at one fidelity (pymatgen's PhaseDiagram).

Per DESIGN.md, the hull of a chemical system at a fidelity is built from every structure
labelled at that fidelity and settings whose elements lie in the system, plus the
elemental references at the same fidelity (their own reference settings, e.g. O₂ as a
triplet). For a structure of composition x (N atoms, total energy E):

    ΔE_f = (E − Σ_e n_e μ_e) / N,  μ_e = the lowest energy per atom among the element's entries,
    E_hull = E/N − (energy per atom of the hull at x)          (≥ 0, 0 on the hull).

A candidate that is not labelled yet is measured against the hull of the labelled
entries alone (:func:`distances_to_known_hull`): its E_hull may then be negative, meaning
it would lower the hull.

A system is only evaluated when every one of its elements has an entry; the structures of
a system that lacks one are left out (and logged), never given a made-up reference.
Energies of different fidelities or settings are never mixed: call once per fidelity.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

__all__ = ["HullEntry", "HullResult", "hull_distances", "distances_to_known_hull"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HullEntry:
    """A labelled structure: its key (e.g. the structure id), element counts and total energy (eV)."""

    key: Hashable
    composition: Mapping[str, int]
    energy_ev: float

    @property
    def system(self) -> frozenset[str]:
        """The elements present."""
        return frozenset(e for e, n in self.composition.items() if n > 0)


@dataclass(frozen=True)
class HullResult:
    """Formation energy and energy above the hull of one structure (eV/atom)."""

    formation_energy_per_atom_ev: float
    e_above_hull_per_atom_ev: float


def hull_distances(entries: Sequence[HullEntry]) -> dict[Hashable, HullResult]:
    """ΔE_f and E_hull of every entry whose chemical system has all its elemental entries.

    Raises:
        ValueError: an entry with no atoms or a non-finite energy (naming its key).
    """
    _check_entries(entries, "hull entry")
    return {
        entry.key: HullResult(
            formation_energy_per_atom_ev=float(diagram.get_form_energy_per_atom(pd_entry)),
            e_above_hull_per_atom_ev=max(0.0, float(diagram.get_e_above_hull(pd_entry, allow_negative=True))),
        )
        for entry, diagram, pd_entry in _against_hull(entries, entries, "structure")
    }


def distances_to_known_hull(known: Sequence[HullEntry], candidates: Sequence[HullEntry]) -> dict[Hashable, float]:
    """Energy above the hull of ``known`` of each candidate (eV/atom; negative: below it).

    The candidates do not enter the hull, so each is judged against the labelled
    structures only, as a selector sees them before labelling (e.g. a predicted CCSD(T)
    energy against the CCSD(T) hull of everything labelled at those settings).

    Args:
        known: the labelled entries at one fidelity and settings (elemental references included).
        candidates: entries with predicted total energies (eV) at the same fidelity.

    Returns:
        key → E_hull (eV/atom) for every candidate whose elements all have an elemental
        entry in ``known``; the others are left out and logged.

    Raises:
        ValueError: an entry with no atoms or a non-finite energy (naming its key).
    """
    _check_entries(known, "hull entry")
    _check_entries(candidates, "candidate")
    return {c.key: float(diagram.get_e_above_hull(pd_entry, allow_negative=True)) for c, diagram, pd_entry in _against_hull(known, candidates, "candidate")}


def _check_entries(entries: Sequence[HullEntry], role: str) -> None:
    for entry in entries:
        if sum(entry.composition.values()) <= 0 or not entry.energy_ev == entry.energy_ev or abs(entry.energy_ev) == float("inf"):
            raise ValueError(f"{role} {entry.key!r} needs atoms and a finite energy, got {dict(entry.composition)} and {entry.energy_ev}")


def _against_hull(known: Sequence[HullEntry], targets: Sequence[HullEntry], role: str) -> Iterator[tuple[HullEntry, PhaseDiagram, PDEntry]]:
    """Each target with the phase diagram of the ``known`` entries of its chemical system (one per system).

    A target is skipped, and logged, when one of its elements has no elemental entry in ``known``.
    """
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    elements_present = {e for entry in known if len(entry.system) == 1 for e in entry.system}
    diagrams: dict[frozenset[str], PhaseDiagram] = {}
    for target in targets:
        missing = sorted(target.system - elements_present)
        if missing:
            logger.warning("no hull for %s %r: no elemental entry of %s at this fidelity", role, target.key, ", ".join(missing))
            continue
        if target.system not in diagrams:
            diagrams[target.system] = PhaseDiagram([PDEntry(Composition(dict(e.composition)), e.energy_ev) for e in known if e.system <= target.system])
        yield target, diagrams[target.system], PDEntry(Composition(dict(target.composition)), target.energy_ev)
