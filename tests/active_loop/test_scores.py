"""Selection maths on hand-made scores: divergence, normalisation, weights, batch diversity."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.active_loop.scores import (
    REL_FLOOR_EV_PER_ATOM, combined_score, divergence, min_max, nearest_distances, select_batch, window_first, within_stability_window,
)


def test_divergence_abs_and_rel() -> None:
    d = divergence([-1.0, -0.5, 0.2], [-1.3, -0.5, -0.2])
    np.testing.assert_allclose(d, [0.3, 0.0, 0.4])
    rel = divergence([-1.0, 0.0], [-1.3, 0.0], kind="rel")
    np.testing.assert_allclose(rel, [0.3 / (1.3 + REL_FLOOR_EV_PER_ATOM), 0.0])
    with pytest.raises(ValueError, match="kind"):
        divergence([0.0], [0.0], kind="squared")
    with pytest.raises(ValueError, match="shape"):
        divergence([0.0, 1.0], [0.0])


def test_min_max_maps_to_unit_interval_and_constant_to_zero() -> None:
    np.testing.assert_allclose(min_max([2.0, 4.0, 3.0]), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(min_max([5.0, 5.0]), [0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        min_max([1.0, np.nan])


def test_combined_score_weights_after_normalisation() -> None:
    d = [0.0, 1.0, 0.5]  # eV/atom
    u = [10.0, 0.0, 20.0]  # another unit entirely: normalisation makes them comparable
    s = combined_score(d, u, 0.7, 0.3)
    np.testing.assert_allclose(s, [0.7 * 0 + 0.3 * 0.5, 0.7 * 1 + 0.3 * 0, 0.7 * 0.5 + 0.3 * 1])
    assert np.argmax(s) == 1
    # with the weights swapped, diversity wins
    assert np.argmax(combined_score(d, u, 0.3, 0.7)) == 2
    with pytest.raises(ValueError, match="weights"):
        combined_score(d, u, 0.0, 0.0)
    with pytest.raises(ValueError, match="weights"):
        combined_score(d, u, -0.1, 1.0)


def test_select_batch_skips_near_duplicates() -> None:
    scores = np.array([1.0, 0.99, 0.98, 0.2])
    prints = np.array([[0.0, 0.0], [0.001, 0.0], [0.002, 0.0], [1.0, 1.0]])  # three near-copies, one distinct
    chosen = select_batch(scores, prints, k=2, min_distance=0.1)
    assert chosen == [0, 3]  # top score, then the distinct one, never two copies
    # without the distance rule the top-k are the copies
    assert select_batch(scores, prints, k=2, min_distance=0.0) == [0, 1]


def test_select_batch_fills_by_max_min_when_too_few_pass() -> None:
    scores = np.array([0.9, 0.8, 0.7])
    prints = np.array([[0.0], [0.01], [0.5]])
    chosen = select_batch(scores, prints, k=3, min_distance=1.0)  # only one passes the rule
    assert chosen[0] == 0 and chosen[1] == 2 and sorted(chosen) == [0, 1, 2]
    assert select_batch(scores, prints, k=5) == [0, 1, 2]  # never more than there are
    assert select_batch(scores, prints, k=0) == []


def test_nearest_distances() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 1.0], [3.0, 0.0]])
    np.testing.assert_allclose(nearest_distances(a, b), [1.0, 4.0])
    assert np.all(np.isinf(nearest_distances(a, np.zeros((0, 2)))))


def test_stability_window_is_optimistic_by_z_standard_deviations() -> None:
    e_hull = [0.05, 0.30, 0.30, -0.2, float("nan")]  # eV/atom above the labelled CCSD(T) hull
    std = [0.0, 0.10, 0.25, 0.0, 1.0]
    assert within_stability_window(e_hull, std, 0.1).tolist() == [True, False, True, True, False]
    assert within_stability_window(e_hull, std, 0.1, z=0.0).tolist() == [True, False, False, True, False]
    assert within_stability_window(e_hull, std, 0.1, z=2.0).tolist() == [True, True, True, True, False]
    with pytest.raises(ValueError, match="std, window and z"):
        within_stability_window([0.0], [-0.1], 0.1)
    with pytest.raises(ValueError, match="differ in shape"):
        within_stability_window([0.0, 0.1], [0.1], 0.1)


def test_window_first_ranks_every_inside_candidate_above_the_outside_ones() -> None:
    scores = combined_score([0.9, 0.1, 0.5, 0.0], [0.0, 0.2, 0.9, 0.1])
    inside = np.array([False, True, False, True])
    ranked = window_first(scores, inside)
    assert set(np.argsort(-ranked)[:2]) == {1, 3}
    assert select_batch(ranked, np.eye(4), 3)[:2] == [int(i) for i in np.argsort(-ranked)[:2]]
    assert np.allclose(window_first(scores, np.zeros(4, bool)), scores)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        window_first([1.5], [True])
