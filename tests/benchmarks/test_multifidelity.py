"""The multi-fidelity benchmark's compound splits (hold-out and leave-one-out)."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.validator.calibration import expected_calibration_error

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


def test_leave_group_out_recalibration_fixes_an_over_confident_ensemble() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat([f"c{i}" for i in range(12)], 40)
    true_sigma = 0.2
    mean = rng.normal(0.0, true_sigma, groups.size)
    target = np.zeros(groups.size)
    std = np.full(groups.size, true_sigma / 4)  # four times too confident
    recalibrated = _module().leave_group_out_recalibrated_std(mean, std, target, groups)
    assert expected_calibration_error(mean, std, target) > 0.25
    assert expected_calibration_error(mean, recalibrated, target) < 0.05
    assert np.allclose(recalibrated, true_sigma, rtol=0.15)


def test_leave_group_out_recalibration_never_looks_at_the_group_itself() -> None:
    # one compound far off, one close: each one's std is scaled by the other's errors only
    mean = np.array([1.0, -1.0, 0.01, -0.01])
    target = np.zeros(4)
    std = np.full(4, 0.1)
    groups = ["far", "far", "near", "near"]
    recalibrated = _module().leave_group_out_recalibrated_std(mean, std, target, groups)
    assert recalibrated[0] == recalibrated[1] < 0.05  # scaled down by the near compound's small errors
    assert recalibrated[2] == recalibrated[3] > 0.5  # scaled up by the far compound's large errors
    with pytest.raises(ValueError, match="at least two compounds"):
        _module().leave_group_out_recalibrated_std(mean, std, target, ["one"] * 4)
