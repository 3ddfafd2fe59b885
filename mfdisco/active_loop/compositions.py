"""The compositions a campaign asks the generator for (its CSP task: composition given)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

from mfdisco.core import atomic_number
from mfdisco.generator.metrics import compositional_validity

__all__ = ["candidate_compositions", "draw_compositions"]


def candidate_compositions(elements: Sequence[str], min_atoms: int, max_atoms: int) -> list[dict[str, int]]:
    """Every cell content with ``min_atoms``-``max_atoms`` atoms of at least two of ``elements`` that
    passes SMACT's charge-neutrality and electronegativity test, e.g. Mg-O up to 3 atoms:
    MgO, MgO₂ (peroxide), Mg₂O... Ordered by size, then by formula.

    Raises:
        ValueError: fewer than two elements, or no valid composition in the range.
    """
    symbols = sorted(set(elements))
    if len(symbols) < 2:
        raise ValueError(f"candidate compositions need at least two elements, got {symbols}")
    found = []
    for counts in product(range(max_atoms + 1), repeat=len(symbols)):
        present = {s: n for s, n in zip(symbols, counts, strict=True) if n > 0}
        if len(present) >= 2 and min_atoms <= sum(counts) <= max_atoms and compositional_validity(present):
            found.append(present)
    if not found:
        raise ValueError(f"no SMACT-valid composition of {'-'.join(symbols)} with {min_atoms}-{max_atoms} atoms")
    return sorted(found, key=lambda c: (sum(c.values()), sorted(c.items())))


def draw_compositions(compositions: Sequence[dict[str, int]], n: int, rng: np.random.Generator) -> list[list[int]]:
    """``n`` compositions drawn uniformly (with replacement), as atomic-number lists for the sampler."""
    picks = rng.integers(0, len(compositions), size=n)
    return [[atomic_number(s) for s, k in sorted(compositions[i].items()) for _ in range(k)] for i in picks]
