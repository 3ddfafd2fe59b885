"""The multi-fidelity benchmark's compound splits (hold-out and leave-one-out)."""

from __future__ import annotations

import pytest

from tests.benchmarks import load_script


def _module():  # noqa: ANN202
    return load_script("validator/multifidelity.py")


def test_leave_one_out_scores_every_compound_once_and_never_trains_on_it() -> None:
    order = [f"c{i}" for i in range(7)]
    splits = _module().compound_splits(order, leave_one_out=True)
    assert len(splits) == len(order)
    assert sorted(key for split in splits for key in split.test) == sorted(order)
    for split in splits:
        assert len(split.test) == 1 and len(split.valid) == 1
        assert not split.test & split.valid
        assert not (split.test | split.valid) & set(split.train)
        assert len(split.train) == len(order) - 2
        assert [k for k in order if k in split.train] == list(split.train)  # the seeded order is kept for budgets


def test_hold_out_split_takes_a_fifth_for_testing_and_a_tenth_for_validation() -> None:
    order = [f"c{i}" for i in range(20)]
    (split,) = _module().compound_splits(order, leave_one_out=False)
    assert split.test == frozenset(order[:4]) and split.valid == frozenset(order[4:6])
    assert split.train == tuple(order[6:])


def test_too_few_compounds_are_refused_with_the_count() -> None:
    with pytest.raises(ValueError, match="2 compounds"):
        _module().compound_splits(["a", "b"], leave_one_out=True)
