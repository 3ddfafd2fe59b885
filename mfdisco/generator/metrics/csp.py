"""Crystal structure prediction metrics: match rate and RMSE (DiffCSP's definitions).

A prediction matches its reference when pymatgen's ``StructureMatcher(stol=0.5,
angle_tol=10, ltol=0.3)`` finds a mapping; its RMSE is the matcher's RMS displacement
normalised by (V/N)^(1/3) (``get_rms_dist``). Invalid predictions (structural validity)
never match. Match rate = matched / references; RMSE = mean over the matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mfdisco.core import Crystal
from mfdisco.generator.metrics.validity import structural_validity

__all__ = ["CSPScore", "csp_match", "structure_matcher"]


def structure_matcher():  # noqa: ANN201 - pymatgen StructureMatcher
    """The field's matcher: ``StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)``."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    return StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3)


@dataclass(frozen=True)
class CSPScore:
    """Match rate (fraction of references matched) and mean normalised RMSE of the matches."""

    match_rate: float
    rmse: float
    matched: int
    total: int


def csp_match(predictions: Sequence[Crystal | None], references: Sequence[Crystal]) -> CSPScore:
    """Score one prediction per reference (None counts as a failed prediction).

    Raises:
        ValueError: the two lists differ in length.
    """
    if len(predictions) != len(references):
        raise ValueError(f"csp_match needs one prediction per reference: {len(predictions)} predictions, {len(references)} references")
    matcher = structure_matcher()
    distances = []
    for predicted, reference in zip(predictions, references, strict=True):
        if predicted is None or not structural_validity(predicted):
            continue
        rms = matcher.get_rms_dist(predicted.to_pymatgen(), reference.to_pymatgen())
        if rms is not None:
            distances.append(rms[0])
    total = len(references)
    return CSPScore(
        match_rate=len(distances) / total if total else 0.0,
        rmse=float(np.mean(distances)) if distances else float("nan"),
        matched=len(distances),
        total=total,
    )
