"""Hull distances and formation energies on hand-made energies with known answers."""

from __future__ import annotations

import pytest

from mfdisco.active_loop.hull import HullEntry, distances_to_known_hull, hull_distances


def _entries() -> list[HullEntry]:
    # μ_A = -1 eV/atom, μ_B = -2 eV/atom (the lower of two B polymorphs)
    return [
        HullEntry("A", {"A": 1}, -1.0),
        HullEntry("B", {"B": 2}, -4.0),
        HullEntry("B-high", {"B": 1}, -1.5),
        HullEntry("AB", {"A": 1, "B": 1}, -4.0),  # ΔE_f = (-4 - (-1 - 2)) / 2 = -0.5: on the hull
        HullEntry("AB-poly", {"A": 2, "B": 2}, -7.6),  # ΔE_f = -0.4: 0.1 above
        HullEntry("A3B", {"A": 3, "B": 1}, -5.1),  # ΔE_f = (-5.1 + 5) / 4 = -0.025; hull at x_B = 1/4 is -0.25
    ]


def test_formation_energies_and_hull_distances() -> None:
    results = hull_distances(_entries())
    assert results["AB"].formation_energy_per_atom_ev == pytest.approx(-0.5)
    assert results["AB"].e_above_hull_per_atom_ev == pytest.approx(0.0, abs=1e-9)
    assert results["AB-poly"].formation_energy_per_atom_ev == pytest.approx(-0.4)
    assert results["AB-poly"].e_above_hull_per_atom_ev == pytest.approx(0.1)
    assert results["A3B"].e_above_hull_per_atom_ev == pytest.approx(-0.025 + 0.25)
    assert results["B-high"].e_above_hull_per_atom_ev == pytest.approx(0.5)
    assert results["B"].e_above_hull_per_atom_ev == pytest.approx(0.0, abs=1e-9)


def test_a_new_stable_phase_lifts_the_others() -> None:
    entries = _entries() + [HullEntry("AB-new", {"A": 1, "B": 1}, -4.4)]  # ΔE_f = -0.7
    results = hull_distances(entries)
    assert results["AB-new"].e_above_hull_per_atom_ev == pytest.approx(0.0, abs=1e-9)
    assert results["AB"].e_above_hull_per_atom_ev == pytest.approx(0.2)


def test_system_without_an_elemental_entry_is_left_out() -> None:
    results = hull_distances([HullEntry("A", {"A": 1}, -1.0), HullEntry("AC", {"A": 1, "C": 1}, -5.0)])
    assert "AC" not in results and "A" in results


def test_bad_entry_is_named() -> None:
    with pytest.raises(ValueError, match="'broken'"):
        hull_distances([HullEntry("broken", {"A": 1}, float("nan"))])


def test_candidates_are_judged_against_the_known_hull_only() -> None:
    candidates = [
        HullEntry("AB-new", {"A": 1, "B": 1}, -4.4),  # ΔE_f = -0.7: 0.2 below the known hull
        HullEntry("AB-copy", {"A": 2, "B": 2}, -8.0),  # the known AB's energy per atom: on it
        HullEntry("A3B-new", {"A": 3, "B": 1}, -5.1),  # the known A3B's energy: 0.225 above
        HullEntry("AC", {"A": 1, "C": 1}, -5.0),  # no C entry: no hull
    ]
    distances = distances_to_known_hull(_entries(), candidates)
    assert distances["AB-new"] == pytest.approx(-0.2)
    assert distances["AB-copy"] == pytest.approx(0.0, abs=1e-9)
    assert distances["A3B-new"] == pytest.approx(0.225)
    assert "AC" not in distances
    # a candidate never enters the hull the others are measured against
    assert distances_to_known_hull(_entries(), candidates[1:2])["AB-copy"] == pytest.approx(0.0, abs=1e-9)


def test_bad_candidate_is_named() -> None:
    with pytest.raises(ValueError, match="candidate 'broken'"):
        distances_to_known_hull(_entries(), [HullEntry("broken", {"A": 1}, float("inf"))])
