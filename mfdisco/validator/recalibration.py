"""Recalibration of Gaussian predictive uncertainties, fitted on validation data.

Two maps from a predicted standard deviation to a recalibrated one (the metric they
are judged by, the regression ECE, is in :mod:`mfdisco.validator.calibration`):

* :class:`ScalarRecalibration`: one factor s multiplying every std, the maximum-likelihood
  choice s² = mean(((y - mu)/sigma)²);
* :class:`IsotonicRecalibration`: the isotonic recalibration of Kuleshov et al. (2018),
  a monotone map from nominal to observed coverage (pool-adjacent-violators fit,
  :func:`pav_isotonic`), collapsed to one Gaussian width.

References:
    V. Kuleshov, N. Fenner, S. Ermon, "Accurate Uncertainties for Deep Learning Using
    Calibrated Regression", ICML 2018.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mfdisco.validator.calibration import (
    _central_quantile,
    _finite_array,
    _open_unit_levels,
    _positive_array,
    _predictions,
    coverage_curve,
)

__all__ = [
    "IsotonicRecalibration",
    "RECALIBRATION_KINDS",
    "Recalibration",
    "ScalarRecalibration",
    "fit_recalibration",
    "pav_isotonic",
    "recalibration_from_dict",
]

RECALIBRATION_KINDS: tuple[str, ...] = ("scalar", "isotonic")
"""Names accepted by :func:`fit_recalibration`."""

# Nominal levels are clipped into [_LEVEL_EPS, 1 - _LEVEL_EPS] before taking
# quantiles so that an inverted isotonic map of exactly 0 or 1 stays finite.
_LEVEL_EPS = 1e-9
# Levels over which the isotonic map is collapsed to one Gaussian scale.
_SCALE_LEVELS: NDArray[np.float64] = np.round(np.linspace(0.05, 0.95, 91), 2)


# --------------------------------------------------------------------------
# Isotonic regression
# --------------------------------------------------------------------------


def pav_isotonic(x: ArrayLike, y: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64]:
    """Return the non-decreasing weighted least-squares fit of ``y`` against ``x``.

    Solves ``min_f sum_i w_i (y_i - f_i)**2`` subject to ``f_i <= f_j``
    whenever ``x_i < x_j`` and ``f_i = f_j`` whenever ``x_i = x_j``, with the
    pool-adjacent-violators algorithm: points sorted by ``x`` start as one
    block per distinct ``x`` value (its weighted mean); each new block is
    merged with its predecessor while their means decrease, the merged value
    being the weighted mean of the pooled points. Runs in ``O(n log n)``.

    Args:
        x: Abscissae, 1-D, finite.
        y: Values to fit, 1-D, same length as ``x``.
        weights: Positive weights, same length; ``None`` means all ones.

    Returns:
        Fitted values in the order of the input points (``result[i]`` goes
        with ``x[i]``); non-decreasing when read in order of increasing ``x``.

    Raises:
        ValueError: on empty, non-1-D, non-finite or mismatched inputs, or
            non-positive weights.
    """
    xs = _finite_array("x", x)
    ys = _finite_array("y", y)
    ws = np.ones_like(ys) if weights is None else _positive_array("weights", weights)
    if xs.ndim != 1:
        raise ValueError(f"x must be 1-D; got shape {xs.shape}")
    if ys.shape != xs.shape:
        raise ValueError(f"y has shape {ys.shape} but x has shape {xs.shape}; they must match")
    if ws.shape != xs.shape:
        raise ValueError(f"weights has shape {ws.shape} but x has shape {xs.shape}; they must match")
    order = np.argsort(xs, kind="stable")
    xs, ys, ws = xs[order], ys[order], ws[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    block_w = np.add.reduceat(ws, starts)
    block_y = np.add.reduceat(ws * ys, starts) / block_w
    block_n = np.diff(np.r_[starts, xs.size])
    values: list[float] = []
    wsums: list[float] = []
    counts: list[int] = []
    for value, wsum, count in zip(block_y.tolist(), block_w.tolist(), block_n.tolist()):
        values.append(value)
        wsums.append(wsum)
        counts.append(count)
        while len(values) > 1 and values[-2] > values[-1]:
            w_last, w_prev = wsums.pop(), wsums[-1]
            v_last, c_last = values.pop(), counts.pop()
            values[-1] = (w_prev * values[-1] + w_last * v_last) / (w_prev + w_last)
            wsums[-1] = w_prev + w_last
            counts[-1] += c_last
    fitted = np.empty_like(ys)
    fitted[order] = np.repeat(np.asarray(values, dtype=np.float64), counts)
    return fitted


# --------------------------------------------------------------------------
# Recalibration
# --------------------------------------------------------------------------


def _check_kind(data: Mapping[str, Any], kind: str) -> None:
    """Check that a saved recalibration ``data`` carries the expected ``kind``.

    Raises:
        ValueError: if ``data`` is not a mapping or its kind differs.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"data must be a mapping; got {type(data).__name__}")
    if data.get("kind") != kind:
        raise ValueError(f"data has kind {data.get('kind')!r}; expected {kind!r}")


def _field(data: Mapping[str, Any], key: str) -> Any:
    """Return ``data[key]``, raising ValueError that names a missing key."""
    if key not in data:
        raise ValueError(f"data lacks the key {key!r}")
    return data[key]


@dataclass(frozen=True)
class ScalarRecalibration:
    """Multiply every predicted standard deviation by one factor ``s > 0``.

    Fitted by maximum likelihood: for ``y_i ~ N(mu_i, s**2 sigma_i**2)`` the
    log-likelihood ``-sum_i [log(s sigma_i) + r_i**2 / (2 s**2)] + const``,
    with ``r_i = (y_i - mu_i) / sigma_i``, is maximal at
    ``s**2 = mean(r_i**2)``. The factor is dimensionless.

    Attributes:
        factor: The scale ``s``, finite and > 0.
    """

    factor: float
    kind: ClassVar[str] = "scalar"

    def __post_init__(self) -> None:
        """Check the factor and store it as a Python float.

        Raises:
            ValueError: if ``factor`` is not finite or not > 0.
        """
        try:
            factor = float(self.factor)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"factor must be a real number; got {self.factor!r}") from exc
        if not np.isfinite(factor) or factor <= 0:
            raise ValueError(f"factor must be finite and > 0; got {factor!r}")
        object.__setattr__(self, "factor", factor)

    @classmethod
    def fit(cls, mean: ArrayLike, std: ArrayLike, target: ArrayLike) -> ScalarRecalibration:
        """Fit the maximum-likelihood factor ``s = sqrt(mean(((y - mu) / sigma)**2))``.

        Args:
            mean: Validation predicted means, any shape.
            std: Validation predicted standard deviations (> 0), same shape and unit.
            target: Validation observations, same shape and unit.

        Returns:
            The fitted recalibration.

        Raises:
            ValueError: on invalid arrays, or when every residual is zero so
                that the factor would be 0.
        """
        mu, sigma, y = _predictions(mean, std, target)
        factor = float(np.sqrt(np.mean(((y - mu) / sigma) ** 2)))
        if factor <= 0:
            raise ValueError("target equals mean everywhere; the scale factor is undefined")
        return cls(factor)

    def apply(self, std: ArrayLike) -> NDArray[np.float64]:
        """Return the recalibrated standard deviations ``std * factor`` (same unit).

        Raises:
            ValueError: if ``std`` is empty, not finite or not > 0.
        """
        return _positive_array("std", std) * self.factor

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict: ``{"kind": "scalar", "factor": s}``."""
        return {"kind": self.kind, "factor": self.factor}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScalarRecalibration:
        """Rebuild a recalibration saved by :meth:`to_dict`.

        Raises:
            ValueError: if ``data`` has another kind, lacks ``factor`` or
                holds an invalid factor.
        """
        _check_kind(data, cls.kind)
        return cls(_field(data, "factor"))


def _invert_monotone(x: NDArray[np.float64], y: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Invert the piecewise-linear non-decreasing map with knots ``(x, y)`` at ``p``.

    Flat pieces (equal ``y``) are collapsed to the mean of their ``x``, so the
    inverse is a well defined non-decreasing piecewise-linear map.
    """
    unique_y, inverse = np.unique(y, return_inverse=True)
    mean_x = np.bincount(inverse, weights=x) / np.bincount(inverse)
    return np.interp(p, unique_y, mean_x)


@dataclass(frozen=True)
class IsotonicRecalibration:
    """Isotonic recalibration of Kuleshov et al. (2018), collapsed to a Gaussian width.

    The map ``R`` sends a nominal confidence level ``p`` to the coverage
    observed on validation data for the central Gaussian interval of level
    ``p``. It is the isotonic (non-decreasing, least-squares, see
    :func:`pav_isotonic`) fit of the validation coverage curve, anchored at
    ``R(0) = 0`` and ``R(1) = 1``, and is stored as knots interpolated
    linearly. Levels and coverages are dimensionless.

    Attributes:
        knots_x: Nominal levels, strictly increasing from 0 to 1.
        knots_y: ``R`` at the knots, non-decreasing inside [0, 1].
    """

    knots_x: tuple[float, ...]
    knots_y: tuple[float, ...]
    kind: ClassVar[str] = "isotonic"

    def __post_init__(self) -> None:
        """Check the knots and store them as tuples of Python floats.

        Raises:
            ValueError: if the knots are not finite, of different lengths,
                fewer than two, outside [0, 1], ``knots_x`` not strictly
                increasing or ``knots_y`` decreasing somewhere.
        """
        x = _finite_array("knots_x", self.knots_x)
        y = _finite_array("knots_y", self.knots_y)
        if x.ndim != 1 or x.size < 2:
            raise ValueError(f"knots_x must be 1-D with at least two knots; got shape {x.shape}")
        if y.shape != x.shape:
            raise ValueError(f"knots_y has shape {y.shape} but knots_x has shape {x.shape}; they must match")
        if np.any((x < 0) | (x > 1)) or np.any((y < 0) | (y > 1)):
            raise ValueError("knots_x and knots_y must lie inside [0, 1]")
        if np.any(np.diff(x) <= 0):
            raise ValueError("knots_x must be strictly increasing")
        if np.any(np.diff(y) < 0):
            raise ValueError("knots_y must be non-decreasing")
        object.__setattr__(self, "knots_x", tuple(x.tolist()))
        object.__setattr__(self, "knots_y", tuple(y.tolist()))

    @classmethod
    def fit(cls, mean: ArrayLike, std: ArrayLike, target: ArrayLike, levels: int = 99) -> IsotonicRecalibration:
        """Fit ``R`` to the validation coverage curve.

        The knots are ``(0, 0)``, ``(p_k, observed(p_k))`` on the grid of
        :func:`confidence_levels` and ``(1, 1)``, with the ordinates replaced
        by their isotonic least-squares fit.

        Args:
            mean: Validation predicted means, any shape.
            std: Validation predicted standard deviations (> 0), same shape and unit.
            target: Validation observations, same shape and unit.
            levels: Number of confidence levels in the grid.

        Returns:
            The fitted recalibration.

        Raises:
            ValueError: on invalid arrays or a non-positive ``levels``.
        """
        expected, observed = coverage_curve(mean, std, target, levels)
        x = np.concatenate(([0.0], expected, [1.0]))
        y = pav_isotonic(x, np.concatenate(([0.0], observed, [1.0])))
        return cls(tuple(x.tolist()), tuple(np.clip(y, 0.0, 1.0).tolist()))

    def apply_levels(self, p: ArrayLike) -> NDArray[np.float64]:
        """Return ``R(p)``, the calibrated coverage of nominal levels ``p``.

        Args:
            p: Confidence levels strictly inside (0, 1), any shape.

        Returns:
            Array of the shape of ``p`` with values in [0, 1].

        Raises:
            ValueError: if ``p`` is empty, not finite or outside (0, 1).
        """
        levels = _open_unit_levels("p", p)
        return np.interp(levels, np.asarray(self.knots_x), np.asarray(self.knots_y))

    @property
    def scale(self) -> float:
        """The single Gaussian std factor that stands in for the map ``R``.

        For a target level ``p`` the interval that truly covers ``p`` is the
        nominal interval of level ``q = R^{-1}(p)`` (``R`` inverted by linear
        interpolation), whose half-width is ``z_{(1+q)/2} sigma``; so the std
        must be scaled by ``z_{(1+q)/2} / z_{(1+p)/2}`` at that level. The
        scale is the median of these ratios over ``p = 0.05, 0.06, ..., 0.95``
        (dimensionless, > 0; > 1 for an over-confident model).
        """
        x, y = np.asarray(self.knots_x), np.asarray(self.knots_y)
        q = np.clip(_invert_monotone(x, y, _SCALE_LEVELS), _LEVEL_EPS, 1.0 - _LEVEL_EPS)
        return float(np.median(_central_quantile(q) / _central_quantile(_SCALE_LEVELS)))

    def apply(self, std: ArrayLike) -> NDArray[np.float64]:
        """Return recalibrated standard deviations ``std * scale`` (same unit).

        The isotonic recalibration of Kuleshov et al. remaps confidence levels
        and, in general, turns the Gaussian into a non-Gaussian distribution.
        Here the map is deliberately collapsed to one Gaussian width (see
        :attr:`scale`, the median per-level std ratio over levels 0.05-0.95)
        so that downstream code keeps working with a Gaussian std. The
        recalibrated intervals are then exact only where the miscalibration is
        a pure scale error; use :meth:`apply_levels` for the full map.

        Raises:
            ValueError: if ``std`` is empty, not finite or not > 0.
        """
        return _positive_array("std", std) * self.scale

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with ``kind``, ``knots_x`` and ``knots_y``."""
        return {"kind": self.kind, "knots_x": list(self.knots_x), "knots_y": list(self.knots_y)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IsotonicRecalibration:
        """Rebuild a recalibration saved by :meth:`to_dict`.

        Raises:
            ValueError: if ``data`` has another kind, lacks a key or holds
                invalid knots.
        """
        _check_kind(data, cls.kind)
        return cls(tuple(_field(data, "knots_x")), tuple(_field(data, "knots_y")))


Recalibration = ScalarRecalibration | IsotonicRecalibration
"""Either recalibration; both offer ``apply(std)``, ``to_dict()`` and ``from_dict()``."""


def fit_recalibration(kind: str, mean: ArrayLike, std: ArrayLike, target: ArrayLike) -> Recalibration:
    """Fit a recalibration of the given kind on validation predictions.

    Args:
        kind: ``"scalar"`` (:class:`ScalarRecalibration`) or ``"isotonic"``
            (:class:`IsotonicRecalibration`).
        mean: Validation predicted means, any shape.
        std: Validation predicted standard deviations (> 0), same shape and unit.
        target: Validation observations, same shape and unit.

    Returns:
        The fitted recalibration.

    Raises:
        ValueError: on an unknown ``kind`` or invalid arrays.
    """
    if kind == ScalarRecalibration.kind:
        return ScalarRecalibration.fit(mean, std, target)
    if kind == IsotonicRecalibration.kind:
        return IsotonicRecalibration.fit(mean, std, target)
    raise ValueError(f"kind must be one of {', '.join(RECALIBRATION_KINDS)}; got {kind!r}")


def recalibration_from_dict(data: Mapping[str, Any]) -> Recalibration:
    """Rebuild either recalibration from the output of its ``to_dict()``.

    Raises:
        ValueError: if ``data`` is not a mapping or its ``kind`` is unknown.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"data must be a mapping; got {type(data).__name__}")
    kind = data.get("kind")
    if kind == ScalarRecalibration.kind:
        return ScalarRecalibration.from_dict(data)
    if kind == IsotonicRecalibration.kind:
        return IsotonicRecalibration.from_dict(data)
    raise ValueError(f"data kind must be one of {', '.join(RECALIBRATION_KINDS)}; got {kind!r}")
