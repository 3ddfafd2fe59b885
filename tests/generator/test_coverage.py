"""COV-R / COV-P on hand-made sets."""

from __future__ import annotations

import pytest

from mfdisco.generator.datasets.prototypes import fcc, perovskite, rocksalt
from mfdisco.generator.metrics.coverage import coverage


def test_identical_sets_cover_each_other_and_unrelated_ones_do_not() -> None:
    references = [rocksalt("Mg", "O", 2.1), rocksalt("Ca", "O", 2.4), perovskite("Sr", "Ti", "O", 1.95)]
    same = coverage(references, references, 0.2, 4.0)
    assert same.recall == pytest.approx(1.0) and same.precision == pytest.approx(1.0)
    metals = [fcc("Cu", 2.55), fcc("Al", 2.86)]
    far = coverage(metals, references, 0.2, 4.0)
    assert far.recall < 0.5 and far.precision == pytest.approx(0.0)
    half = coverage([references[0], metals[0]], references, 0.2, 4.0)
    assert half.precision == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-empty"):
        coverage([], references, 0.2, 4.0)
