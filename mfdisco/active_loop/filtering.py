"""Filtering generated candidates: validity, size, chemistry and dedup against what is known.

In order, a candidate is rejected when it
    1. is structurally invalid (a periodic distance ≤ 0.5 Å or volume ≤ 0.1 Å³), or has
       two atoms closer than ``min_contact_ratio`` times the sum of their covalent radii
       (:func:`~mfdisco.core.validity.tightest_contact`; off at 0). The campaign screens its
       relaxed candidates at 0.7: a 2-atom MgO cell with Mg-O at 1.34 Å (ratio 0.64)
       needed all four rungs of the SCF ladder, 295 s of gth-szv PBE against 10 s for
       rocksalt, for a structure no one would make,
    2. has a number of atoms outside [min_atoms, max_atoms] or elements outside the campaign's,
    3. fails SMACT's charge-neutrality + electronegativity test,
    4. has the canonical hash of a known structure or of an earlier candidate,
    5. matches a known structure or an earlier candidate of the same reduced formula with
       pymatgen's ``StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)``.
The first reason that applies is recorded, so the cycle row can say why candidates went.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from mfdisco.core import Crystal, tightest_contact
from mfdisco.generator.metrics import compositional_validity, structural_validity, structure_matcher

__all__ = ["FilterReport", "filter_candidates"]


@dataclass
class FilterReport:
    """Outcome of :func:`filter_candidates`.

    Attributes:
        kept: indices (into the input) of the candidates that passed.
        reasons: rejection reason → count.
        n_valid: candidates that passed the validity and chemistry checks (1-3).
    """

    kept: list[int] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    n_valid: int = 0

    @property
    def novelty(self) -> float:
        """Share of valid candidates that are new (neither known nor repeated)."""
        return len(self.kept) / self.n_valid if self.n_valid else 0.0


def filter_candidates(
    candidates: Sequence[Crystal],
    known: Sequence[Crystal],
    elements: Sequence[str],
    min_atoms: int = 1,
    max_atoms: int = 1000,
    min_contact_ratio: float = 0.0,
) -> FilterReport:
    """Keep the valid, novel, distinct candidates (see the module docstring).

    Args:
        candidates: generated (and relaxed) structures.
        known: structures already in the database (those of the campaign's chemical systems suffice).
        elements: the campaign's elements.
        min_atoms, max_atoms: allowed atoms per cell.
        min_contact_ratio: smallest accepted distance / (r_cov,i + r_cov,j) of any pair.
    """
    report = FilterReport()
    allowed = set(elements)
    matcher = structure_matcher()
    hashes = {c.canonical_hash() for c in known}
    by_formula: dict[str, list[Crystal]] = {}
    for crystal in known:
        by_formula.setdefault(crystal.reduced_formula, []).append(crystal)
    for index, crystal in enumerate(candidates):
        reason = None
        if not structural_validity(crystal):
            reason = "structurally invalid"
        elif min_contact_ratio > 0 and tightest_contact(crystal)[3] < min_contact_ratio:
            reason = f"atoms closer than {min_contact_ratio:g}x their covalent radii"
        elif not min_atoms <= crystal.num_sites <= max_atoms:
            reason = f"atoms outside {min_atoms}-{max_atoms}"
        elif not set(crystal.species) <= allowed:
            reason = "elements outside the campaign"
        elif not compositional_validity(crystal):
            reason = "SMACT invalid"
        if reason is None:
            report.n_valid += 1
            digest = crystal.canonical_hash()
            if digest in hashes:
                reason = "duplicate (canonical hash)"
            elif any(matcher.fit(crystal.to_pymatgen(), other.to_pymatgen()) for other in by_formula.get(crystal.reduced_formula, [])):
                reason = "duplicate (StructureMatcher)"
            hashes.add(digest)
            by_formula.setdefault(crystal.reduced_formula, []).append(crystal)
        if reason is None:
            report.kept.append(index)
        else:
            report.reasons[reason] += 1
    return report
