"""Divergence, normalisation, the combined score and batch-diverse selection (pure functions).

    D_abs = |ΔE_f,pbe − ΔE_f,ccsd_t|                      (eV/atom, predicted)
    D_rel = D_abs / (|ΔE_f,ccsd_t| + δ),  δ = 0.1 eV/atom   (dimensionless)
    S     = w_D · D' + w_U · U'

with D' and U' min-max normalised over the cycle's candidates to [0, 1] (a constant
column becomes 0), so the weights (default 0.7 and 0.3) say how much each term counts.

Stability window (optional): a discovery must lie within the hit threshold of the
CCSD(T) hull, so a candidate whose optimistic predicted CCSD(T) hull distance,
E_hull,ccsd_t − z σ_ccsd_t (eV/atom, against the labelled CCSD(T) hull), is within the
window is ranked before every candidate outside it; S orders each group.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "divergence", "min_max", "combined_score", "select_batch", "nearest_distances", "within_stability_window", "window_first",
    "REL_FLOOR_EV_PER_ATOM",
]

#: δ of D_rel: keeps the relative divergence finite near ΔE_f = 0 (eV/atom).
REL_FLOOR_EV_PER_ATOM = 0.1


def divergence(ef_pbe: ArrayLike, ef_ccsd_t: ArrayLike, kind: str = "abs") -> NDArray[np.float64]:
    """D per candidate from predicted formation energies (eV/atom).

    Raises:
        ValueError: unknown ``kind`` or arrays of different shapes.
    """
    low, high = np.asarray(ef_pbe, dtype=float), np.asarray(ef_ccsd_t, dtype=float)
    if low.shape != high.shape:
        raise ValueError(f"ef_pbe {low.shape} and ef_ccsd_t {high.shape} differ in shape")
    absolute = np.abs(low - high)
    if kind == "abs":
        return absolute
    if kind == "rel":
        return absolute / (np.abs(high) + REL_FLOOR_EV_PER_ATOM)
    raise ValueError(f"divergence kind {kind!r} is not 'abs' or 'rel'")


def min_max(values: ArrayLike) -> NDArray[np.float64]:
    """Values mapped to [0, 1] (min → 0, max → 1); a constant or empty column gives zeros.

    Raises:
        ValueError: a non-finite value.
    """
    array = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError("scores must be finite to be normalised")
    if array.size == 0:
        return array
    span = array.max() - array.min()
    return (array - array.min()) / span if span > 0 else np.zeros_like(array)


def combined_score(divergence_values: ArrayLike, uncertainty_values: ArrayLike, weight_divergence: float = 0.7, weight_uncertainty: float = 0.3) -> NDArray[np.float64]:
    """S = w_D · minmax(D) + w_U · minmax(U).

    Raises:
        ValueError: negative weights, both zero, or columns of different lengths.
    """
    d, u = np.asarray(divergence_values, dtype=float), np.asarray(uncertainty_values, dtype=float)
    if d.shape != u.shape:
        raise ValueError(f"divergence {d.shape} and uncertainty {u.shape} differ in shape")
    if weight_divergence < 0 or weight_uncertainty < 0 or weight_divergence + weight_uncertainty == 0:
        raise ValueError(f"weights must be >= 0 and not both 0, got {weight_divergence}, {weight_uncertainty}")
    return weight_divergence * min_max(d) + weight_uncertainty * min_max(u)


def within_stability_window(e_hull: ArrayLike, std: ArrayLike, window: float, z: float = 1.0) -> NDArray[np.bool_]:
    """[N] True where the optimistic hull distance ``e_hull - z * std`` is at most ``window``.

    Args:
        e_hull: [N] predicted energy above the labelled hull (eV/atom); NaN where no hull
            could be built (never inside).
        std: [N] ensemble standard deviation of the same prediction (eV/atom, >= 0).
        window: the window (eV/atom), e.g. the discovery threshold.
        z: how many standard deviations of optimism.

    Raises:
        ValueError: shapes that differ, a negative std, window or z.
    """
    e, sigma = np.asarray(e_hull, dtype=float), np.asarray(std, dtype=float)
    if e.shape != sigma.shape:
        raise ValueError(f"e_hull {e.shape} and std {sigma.shape} differ in shape")
    if np.any(sigma < 0) or window < 0 or z < 0:
        raise ValueError(f"std, window and z must be >= 0, got min std {sigma.min(initial=0.0)}, window {window}, z {z}")
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(e - z * sigma, nan=np.inf) <= window


def window_first(scores: ArrayLike, inside: ArrayLike) -> NDArray[np.float64]:
    """Scores in [0, 1] lifted by 1 inside the window, so every inside candidate ranks first.

    Raises:
        ValueError: shapes that differ, or a score outside [0, 1].
    """
    s, mask = np.asarray(scores, dtype=float), np.asarray(inside, dtype=bool)
    if s.shape != mask.shape:
        raise ValueError(f"scores {s.shape} and inside {mask.shape} differ in shape")
    if s.size and (not np.all(np.isfinite(s)) or s.min() < 0 or s.max() > 1):
        raise ValueError("window_first needs normalised scores in [0, 1]")
    return s + mask


def select_batch(scores: ArrayLike, fingerprints: ArrayLike, k: int, min_distance: float = 0.0) -> list[int]:
    """Greedy batch selection by score that never takes near-duplicates.

    Candidates are taken in descending score; one closer than ``min_distance`` (Euclidean,
    in fingerprint space) to a candidate already taken is skipped. When fewer than ``k``
    pass, the rest are filled by greedy max-min distance to the chosen set (ties by score),
    so the batch is always as diverse as the candidates allow.

    Args:
        scores: [N] selection scores (higher first).
        fingerprints: [N, d] structure fingerprints.
        k: batch size.
        min_distance: the smallest allowed distance between two chosen candidates.

    Returns:
        Indices of the chosen candidates, in the order chosen (at most ``min(k, N)``).

    Raises:
        ValueError: shapes that do not match, or k < 0.
    """
    s = np.asarray(scores, dtype=float)
    x = np.asarray(fingerprints, dtype=float).reshape(len(s), -1)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    order = [int(i) for i in np.argsort(-s, kind="stable")]
    chosen: list[int] = []
    for i in order:
        if len(chosen) == k:
            return chosen
        if all(np.linalg.norm(x[i] - x[j]) >= min_distance for j in chosen):
            chosen.append(i)
    while len(chosen) < min(k, len(s)):
        rest = [i for i in order if i not in chosen]
        distances = [min(np.linalg.norm(x[i] - x[j]) for j in chosen) if chosen else 0.0 for i in rest]
        chosen.append(rest[int(np.argmax(distances))])  # argmax takes the first (best-scored) of ties
    return chosen


def nearest_distances(candidates: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """[N] distance of each candidate fingerprint to its nearest reference fingerprint (inf with no reference)."""
    a = np.asarray(candidates, dtype=float)
    b = np.asarray(reference, dtype=float)
    if len(b) == 0:
        return np.full(len(a), np.inf)
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).min(axis=1)
