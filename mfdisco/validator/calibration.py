"""Calibration of Gaussian predictive uncertainties: the coverage curve and the regression ECE.

A model (for instance an ensemble of potentials) predicts for each target a
Gaussian distribution ``N(mu_i, sigma_i**2)``. The predictions are *calibrated*
when, for every confidence level ``p``, the central ``p`` interval
``mu_i +- z_{(1+p)/2} sigma_i`` contains a fraction ``p`` of the observations,
where ``z_a`` is the ``a`` quantile of the standard normal distribution.

This module gives the coverage curve and the regression expected calibration error
(ECE) in the "coverage" form of Kuleshov et al. (2018) and Tran et al. (2020), and the
input checks shared with :mod:`mfdisco.validator.recalibration` (the maps fitted on
validation data that make an ensemble's std calibrated).

All functions are unit agnostic: ``mean``, ``std`` and ``target`` must share
one unit (eV, eV/atom, eV/Å, ...); confidence levels, coverages and the ECE are
dimensionless.

References:
    V. Kuleshov, N. Fenner, S. Ermon, "Accurate Uncertainties for Deep
    Learning Using Calibrated Regression", ICML 2018.
    K. Tran et al., "Methods for comparing uncertainty quantifications for
    material property predictions", Mach. Learn.: Sci. Technol. 1, 025006 (2020).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["confidence_levels", "coverage_curve", "expected_calibration_error"]

_STANDARD_NORMAL = NormalDist()


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _finite_array(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """Return ``values`` as a non-empty float array of finite numbers.

    Raises:
        ValueError: if the values are not numeric, empty or not finite.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers ({exc})") from exc
    if array.size == 0:
        raise ValueError(f"{name} is empty; at least one value is needed")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values (NaN or infinity)")
    return array


def _positive_array(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """Return ``values`` as a finite, strictly positive float array.

    Raises:
        ValueError: if the values are empty, not finite or not all > 0.
    """
    array = _finite_array(name, values)
    if np.any(array <= 0):
        raise ValueError(f"{name} must be strictly positive; found a minimum of {array.min()!r}")
    return array


def _predictions(
    mean: ArrayLike, std: ArrayLike, target: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check Gaussian predictions and observations and flatten them to 1-D.

    Raises:
        ValueError: on empty, non-finite or mismatched arrays, or ``std <= 0``.
    """
    mu = _finite_array("mean", mean)
    sigma = _positive_array("std", std)
    y = _finite_array("target", target)
    if sigma.shape != mu.shape:
        raise ValueError(f"std has shape {sigma.shape} but mean has shape {mu.shape}; they must match")
    if y.shape != mu.shape:
        raise ValueError(f"target has shape {y.shape} but mean has shape {mu.shape}; they must match")
    return mu.ravel(), sigma.ravel(), y.ravel()


def _check_levels(levels: int) -> int:
    """Check the number of confidence levels (a positive integer).

    Raises:
        ValueError: if ``levels`` is not an integer >= 1.
    """
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be a positive integer; got {levels!r}")
    return int(levels)


def _open_unit_levels(name: str, p: ArrayLike) -> NDArray[np.float64]:
    """Return confidence levels as a float array, all strictly inside (0, 1).

    Raises:
        ValueError: if the levels are empty, not finite or outside (0, 1).
    """
    array = _finite_array(name, p)
    if np.any((array <= 0) | (array >= 1)):
        raise ValueError(f"{name} must lie strictly inside (0, 1); got values in [{array.min()!r}, {array.max()!r}]")
    return array


# --------------------------------------------------------------------------
# Coverage and ECE
# --------------------------------------------------------------------------


def confidence_levels(levels: int = 99) -> NDArray[np.float64]:
    """Return the evenly spaced grid of confidence levels ``k / (levels + 1)``.

    With the default ``levels=99`` this is ``0.01, 0.02, ..., 0.99``.

    Args:
        levels: Number of levels, a positive integer.

    Returns:
        Array of shape ``(levels,)``, strictly increasing inside (0, 1).

    Raises:
        ValueError: if ``levels`` is not a positive integer.
    """
    n = _check_levels(levels)
    return np.arange(1, n + 1, dtype=np.float64) / (n + 1)


def _central_quantile(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Half-width ``z_{(1+p)/2}`` of the central ``p`` interval of N(0, 1).

    The central interval ``[-z, z]`` of a standard normal holds probability
    ``p`` when ``Phi(z) = (1 + p) / 2``, with ``Phi`` the normal CDF; ``p``
    must lie in (0, 1) (not checked here).
    """
    upper = (1.0 + p) / 2.0
    quantiles = np.fromiter((_STANDARD_NORMAL.inv_cdf(float(u)) for u in upper.ravel()), dtype=np.float64, count=upper.size)
    return quantiles.reshape(upper.shape)


def coverage_curve(
    mean: ArrayLike, std: ArrayLike, target: ArrayLike, levels: int = 99
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return expected versus observed coverage of central Gaussian intervals.

    For each confidence level ``p`` of :func:`confidence_levels` the observed
    coverage is the fraction of observations inside the central interval,

    ``observed(p) = (1/n) #{i : |y_i - mu_i| / sigma_i <= z_{(1+p)/2}}``,

    computed from the standardized residuals ``|y_i - mu_i| / sigma_i``
    (dimensionless). A calibrated model has ``observed(p) = p``; an
    over-confident one (``sigma`` too small) lies below the diagonal, an
    under-confident one above it.

    Args:
        mean: Predicted means ``mu_i``, any shape.
        std: Predicted standard deviations ``sigma_i > 0``, same shape and unit.
        target: Observations ``y_i``, same shape and unit.
        levels: Number of confidence levels in the grid.

    Returns:
        ``(expected, observed)``: two arrays of shape ``(levels,)``; both are
        non-decreasing and lie in [0, 1].

    Raises:
        ValueError: on empty, non-finite or mismatched arrays, ``std <= 0`` or
            a non-positive ``levels``.
    """
    mu, sigma, y = _predictions(mean, std, target)
    expected = confidence_levels(levels)
    residuals = np.sort(np.abs(y - mu) / sigma)
    observed = np.searchsorted(residuals, _central_quantile(expected), side="right") / residuals.size
    return expected, observed.astype(np.float64)


def expected_calibration_error(mean: ArrayLike, std: ArrayLike, target: ArrayLike, levels: int = 99) -> float:
    """Return the regression expected calibration error (coverage form).

    ``ECE = (1/L) sum_p |observed(p) - p|`` over the ``L = levels`` confidence
    levels ``p`` of :func:`confidence_levels`, with ``observed(p)`` the
    coverage of the central Gaussian interval (see :func:`coverage_curve`).
    It is dimensionless, 0 for perfect calibration, and at most 0.5 on the
    default grid.

    Args:
        mean: Predicted means ``mu_i``, any shape.
        std: Predicted standard deviations ``sigma_i > 0``, same shape and unit.
        target: Observations ``y_i``, same shape and unit.
        levels: Number of confidence levels.

    Returns:
        The ECE, a float in [0, 0.5].

    Raises:
        ValueError: on empty, non-finite or mismatched arrays, ``std <= 0`` or
            a non-positive ``levels``.
    """
    expected, observed = coverage_curve(mean, std, target, levels)
    return float(np.mean(np.abs(observed - expected)))
