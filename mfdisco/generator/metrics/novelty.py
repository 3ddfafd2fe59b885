"""Uniqueness, novelty and the metallicity-trap monitor.

Two structures are the same when their canonical hashes agree or, with the same reduced
formula, pymatgen's ``StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)`` matches them.

* uniqueness: share of samples not the same as an earlier sample;
* novelty: share of samples not the same as any known structure (training set, database);
* metallicity trap: a generator that collapses onto close-packed metals. The monitor
  reports the share of samples that match an FCC, BCC or HCP lattice whatever their
  species (``FrameworkComparator``: substitutional alloys on those lattices count) and
  the novelty, and warns when the novelty falls below 70 %.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mfdisco.core import Crystal
from mfdisco.generator.metrics.csp import structure_matcher

__all__ = ["same_structure_groups", "uniqueness", "novelty", "TrapReport", "metallicity_trap", "NOVELTY_WARNING"]

logger = logging.getLogger(__name__)

NOVELTY_WARNING = 0.7


def _is_same(a: Crystal, b: Crystal, matcher) -> bool:  # noqa: ANN001 - StructureMatcher
    if a.canonical_hash() == b.canonical_hash():
        return True
    return a.reduced_formula == b.reduced_formula and matcher.fit(a.to_pymatgen(), b.to_pymatgen())


def same_structure_groups(crystals: Sequence[Crystal]) -> list[int]:
    """For each crystal, the index of the first crystal it is the same as (itself if none)."""
    matcher = structure_matcher()
    firsts: list[int] = []
    representatives: list[int] = []
    for i, crystal in enumerate(crystals):
        match = next((r for r in representatives if _is_same(crystal, crystals[r], matcher)), None)
        if match is None:
            representatives.append(i)
            match = i
        firsts.append(match)
    return firsts


def uniqueness(crystals: Sequence[Crystal]) -> float:
    """Share of samples that are not the same as an earlier sample."""
    if not crystals:
        return 0.0
    groups = same_structure_groups(crystals)
    return sum(g == i for i, g in enumerate(groups)) / len(crystals)


def novelty(crystals: Sequence[Crystal], known: Sequence[Crystal]) -> float:
    """Share of samples that are the same as none of ``known``."""
    if not crystals:
        return 0.0
    matcher = structure_matcher()
    known_hashes = {c.canonical_hash() for c in known}
    by_formula: dict[str, list[Crystal]] = {}
    for crystal in known:
        by_formula.setdefault(crystal.reduced_formula, []).append(crystal)
    novel = 0
    for crystal in crystals:
        if crystal.canonical_hash() in known_hashes:
            continue
        if not any(matcher.fit(crystal.to_pymatgen(), k.to_pymatgen()) for k in by_formula.get(crystal.reduced_formula, [])):
            novel += 1
    return novel / len(crystals)


@dataclass(frozen=True)
class TrapReport:
    """Metallicity-trap monitor of one batch of samples."""

    close_packed_share: float
    novelty: float
    warning: bool


def metallicity_trap(crystals: Sequence[Crystal], known: Sequence[Crystal]) -> TrapReport:
    """Share of samples on FCC/BCC/HCP lattices and novelty; warns (log) when novelty < 70 %."""
    from pymatgen.analysis.structure_matcher import FrameworkComparator, StructureMatcher

    from mfdisco.generator.datasets.prototypes import bcc, fcc, hcp

    matcher = StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3, comparator=FrameworkComparator(), primitive_cell=True, attempt_supercell=True)
    lattices = [p("Cu", 2.55).to_pymatgen() for p in (fcc, bcc, hcp)]
    on_lattice = [any(matcher.fit(c.to_pymatgen(), lattice) for lattice in lattices) for c in crystals]
    share = float(np.mean(on_lattice)) if crystals else 0.0
    novel = novelty(crystals, known)
    warning = bool(crystals) and novel < NOVELTY_WARNING
    if warning:
        logger.warning("metallicity trap? novelty %.0f %% < %.0f %%, %.0f %% of samples on FCC/BCC/HCP lattices", 100 * novel, 100 * NOVELTY_WARNING, 100 * share)
    return TrapReport(close_packed_share=share, novelty=novel, warning=warning)
