"""Calibration metric (coverage ECE), recalibrations and the PAV isotonic fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mfdisco.validator.calibration import confidence_levels, coverage_curve, expected_calibration_error
from mfdisco.validator.recalibration import (
    IsotonicRecalibration,
    ScalarRecalibration,
    fit_recalibration,
    pav_isotonic,
    recalibration_from_dict,
)

N = 20_000


def _gaussian_data(rng: np.random.Generator, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated predictions: mu = 0, sigma ~ U[0.5, 2], y ~ N(mu, sigma^2)."""
    mean = np.zeros(n)
    std = rng.uniform(0.5, 2.0, n)
    return mean, std, rng.normal(mean, std)


def test_confidence_levels_default_grid() -> None:
    levels = confidence_levels()
    assert levels.shape == (99,)
    assert levels[0] == pytest.approx(0.01)
    assert levels[-1] == pytest.approx(0.99)


def test_ece_of_calibrated_gaussian_is_small() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(1))
    assert expected_calibration_error(mean, std, target) < 0.02


@pytest.mark.parametrize("factor", [1 / 3, 3.0], ids=["over-confident", "under-confident"])
def test_ece_of_miscalibrated_gaussian_is_large(factor: float) -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(2))
    assert expected_calibration_error(mean, std * factor, target) > 0.2


def test_coverage_curve_is_monotone_in_unit_interval() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(3), n=500)
    expected, observed = coverage_curve(mean, std * 0.7, target, levels=49)
    assert expected.shape == observed.shape == (49,)
    assert np.all(np.diff(expected) > 0)
    assert np.all(np.diff(observed) >= 0)
    assert np.all((observed >= 0) & (observed <= 1))
    # Over-confident: the observed coverage lies below the diagonal on average.
    assert np.mean(observed - expected) < 0


def test_coverage_counts_points_on_the_interval_edge() -> None:
    # A zero residual is inside every central interval, a huge one in none: |0.5 - p| over p = 0.1..0.9.
    expected, observed = coverage_curve([0.0, 0.0], [1.0, 1.0], [0.0, 100.0], levels=9)
    np.testing.assert_allclose(observed, 0.5)
    assert expected_calibration_error([0.0, 0.0], [1.0, 1.0], [0.0, 100.0], levels=9) == pytest.approx(2.0 / 9)


def test_scalar_recalibration_fixes_over_confidence() -> None:
    rng = np.random.default_rng(4)
    val_mean, val_std, val_target = _gaussian_data(rng)
    test_mean, test_std, test_target = _gaussian_data(rng)
    recal = ScalarRecalibration.fit(val_mean, val_std / 3, val_target)
    assert recal.factor == pytest.approx(3.0, rel=0.05)
    assert expected_calibration_error(test_mean, test_std / 3, test_target) > 0.2
    assert expected_calibration_error(test_mean, recal.apply(test_std / 3), test_target) < 0.03


def test_isotonic_recalibration_fixes_over_confidence() -> None:
    rng = np.random.default_rng(5)
    val_mean, val_std, val_target = _gaussian_data(rng)
    test_mean, test_std, test_target = _gaussian_data(rng)
    recal = IsotonicRecalibration.fit(val_mean, val_std / 3, val_target)
    assert expected_calibration_error(test_mean, test_std / 3, test_target) > 0.2
    assert expected_calibration_error(test_mean, recal.apply(test_std / 3), test_target) < 0.05
    assert recal.scale == pytest.approx(3.0, rel=0.1)


def test_isotonic_map_lies_below_diagonal_when_over_confident() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(6))
    recal = IsotonicRecalibration.fit(mean, std / 3, target)
    p = np.array([0.2, 0.5, 0.8])
    mapped = recal.apply_levels(p)
    assert np.all(np.diff(mapped) > 0)
    assert np.all(mapped < p - 0.1)


def test_isotonic_recalibration_shrinks_under_confident_std() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(7))
    recal = fit_recalibration("isotonic", mean, std * 2, target)
    assert isinstance(recal, IsotonicRecalibration)
    assert recal.scale == pytest.approx(0.5, rel=0.1)


def test_fit_recalibration_dispatches_on_kind() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(8), n=1000)
    assert isinstance(fit_recalibration("scalar", mean, std, target), ScalarRecalibration)
    assert isinstance(fit_recalibration("isotonic", mean, std, target), IsotonicRecalibration)


def test_pav_isotonic_pools_violators() -> None:
    np.testing.assert_allclose(pav_isotonic([0, 1, 2], [3, 1, 2]), [2, 2, 2])


def test_pav_isotonic_keeps_monotone_input() -> None:
    rng = np.random.default_rng(9)
    y = np.sort(rng.normal(size=50))
    x = np.arange(50.0)
    np.testing.assert_array_equal(pav_isotonic(x, y), y)


def test_pav_isotonic_is_non_decreasing_and_minimises_squares() -> None:
    rng = np.random.default_rng(10)
    x = rng.permutation(200).astype(float)
    y = 0.01 * x + rng.normal(size=200)
    weights = rng.uniform(0.5, 2.0, 200)
    fitted = pav_isotonic(x, y, weights)
    order = np.argsort(x)
    assert np.all(np.diff(fitted[order]) >= -1e-12)
    # The least-squares fit beats any monotone competitor, e.g. a sorted y or a constant.
    loss = np.sum(weights * (y - fitted) ** 2)
    assert loss <= np.sum(weights * (y - np.sort(y)[np.argsort(order)]) ** 2)
    assert loss <= np.sum(weights * (y - np.average(y, weights=weights)) ** 2)
    # Block means are weighted means of the pooled points.
    assert np.sum(weights * fitted) == pytest.approx(np.sum(weights * y))


def test_pav_isotonic_ties_get_one_value() -> None:
    fitted = pav_isotonic([1.0, 0.0, 1.0], [0.0, 5.0, 4.0])
    np.testing.assert_allclose(fitted, [3.0, 3.0, 3.0])
    np.testing.assert_allclose(pav_isotonic([0.0, 1.0, 1.0], [0.0, 1.0, 3.0]), [0.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("mean", "std", "target", "name"),
    [
        ([0.0, 0.0], [1.0], [0.0, 0.0], "std"),
        ([0.0, 0.0], [1.0, 1.0], [0.0], "target"),
        ([0.0, 0.0], [1.0, 0.0], [0.0, 0.0], "std"),
        ([0.0, 0.0], [1.0, -1.0], [0.0, 0.0], "std"),
        ([0.0, np.nan], [1.0, 1.0], [0.0, 0.0], "mean"),
        ([0.0, 0.0], [1.0, np.inf], [0.0, 0.0], "std"),
        ([0.0, 0.0], [1.0, 1.0], [np.nan, 0.0], "target"),
        ([], [], [], "mean"),
    ],
)
def test_bad_predictions_raise(mean: list[float], std: list[float], target: list[float], name: str) -> None:
    for function in (expected_calibration_error, coverage_curve, ScalarRecalibration.fit, IsotonicRecalibration.fit):
        with pytest.raises(ValueError, match=name):
            function(mean, std, target)


def test_bad_arguments_raise() -> None:
    rng = np.random.default_rng(11)
    mean, std, target = _gaussian_data(rng, n=100)
    with pytest.raises(ValueError, match="kind"):
        fit_recalibration("temperature", mean, std, target)
    with pytest.raises(ValueError, match="levels"):
        expected_calibration_error(mean, std, target, levels=0)
    recal = IsotonicRecalibration.fit(mean, std, target)
    for p in ([0.0, 0.5], [0.5, 1.0], [1.5], [np.nan]):
        with pytest.raises(ValueError, match="p "):
            recal.apply_levels(p)
    with pytest.raises(ValueError, match="std"):
        recal.apply([1.0, -1.0])
    with pytest.raises(ValueError, match="std"):
        ScalarRecalibration(2.0).apply([0.0])
    with pytest.raises(ValueError, match="factor"):
        ScalarRecalibration(0.0)
    with pytest.raises(ValueError, match="target"):
        ScalarRecalibration.fit([1.0, 2.0], [1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="weights"):
        pav_isotonic([0, 1], [0, 1], [1.0, 0.0])
    with pytest.raises(ValueError, match="^y has shape"):
        pav_isotonic([0, 1], [0, 1, 2])
    with pytest.raises(ValueError, match="knots_x"):
        IsotonicRecalibration((0.0, 0.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="knots_y"):
        IsotonicRecalibration((0.0, 1.0), (1.0, 0.0))


def test_to_dict_from_dict_round_trip_exactly() -> None:
    mean, std, target = _gaussian_data(np.random.default_rng(12), n=2000)
    for kind, cls in (("scalar", ScalarRecalibration), ("isotonic", IsotonicRecalibration)):
        recal = fit_recalibration(kind, mean, std / 2, target)
        data = json.loads(json.dumps(recal.to_dict()))
        assert data["kind"] == kind
        restored = cls.from_dict(data)
        assert restored == recal
        assert recalibration_from_dict(data) == recal
        np.testing.assert_array_equal(restored.apply(std), recal.apply(std))
    with pytest.raises(ValueError, match="kind"):
        IsotonicRecalibration.from_dict({"kind": "scalar", "factor": 2.0})
    with pytest.raises(ValueError, match="kind"):
        recalibration_from_dict({"kind": "beta"})
    with pytest.raises(ValueError, match="factor"):
        ScalarRecalibration.from_dict({"kind": "scalar"})
