"""Structural and compositional validity of generated crystals, as CDVAE and DiffCSP define them.

* Structural validity: every periodic interatomic distance above 0.5 Å and a cell volume
  above 0.1 Å³ (:func:`mfdisco.core.is_structurally_valid`).
* Compositional validity (SMACT): a composition is valid when it is a single element,
  an alloy of metals only, or when some assignment of the elements' known oxidation
  states q_i makes it charge neutral, Σ_i n_i q_i = 0 for its element counts n_i, and
  passes the Pauling electronegativity test (every cation less electronegative than
  every anion).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from functools import lru_cache

from mfdisco.core import Crystal, is_structurally_valid

__all__ = ["compositional_validity", "structural_validity"]


def structural_validity(crystal: Crystal) -> bool:
    """All periodic distances > 0.5 Å and volume > 0.1 Å³."""
    return is_structurally_valid(crystal, min_distance=0.5)


def compositional_validity(composition: Crystal | dict[str, int]) -> bool:
    """SMACT charge neutrality with the Pauling electronegativity test (alloys and elements valid).

    Args:
        composition: a crystal, or element symbol → count.

    Raises:
        ValueError: a count that is not a positive integer.
    """
    counts = Counter(composition.species) if isinstance(composition, Crystal) else Counter(composition)
    if any(not isinstance(n, int) or n < 1 for n in counts.values()):
        raise ValueError(f"composition counts must be positive integers, got {dict(counts)}")
    divisor = math.gcd(*counts.values())
    return _valid(tuple(sorted((symbol, n // divisor) for symbol, n in counts.items())))


@lru_cache(maxsize=65536)
def _valid(reduced: tuple[tuple[str, int], ...]) -> bool:
    import smact
    from smact.screening import pauling_test

    symbols = [symbol for symbol, _ in reduced]
    if len(symbols) == 1 or all(symbol in smact.metals for symbol in symbols):
        return True
    elements = [smact.Element(symbol) for symbol in symbols]
    electronegativities = [e.pauling_eneg for e in elements]
    counts = [n for _, n in reduced]
    for states in itertools.product(*(e.oxidation_states or [0] for e in elements)):
        if sum(n * q for n, q in zip(counts, states, strict=True)) != 0:
            continue
        if None in electronegativities or pauling_test(states, electronegativities):
            return True
    return False


