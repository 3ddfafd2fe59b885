"""Stopping rules, failure signatures and candidate compositions."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.active_loop.compositions import candidate_compositions, draw_compositions
from mfdisco.active_loop.signatures import LabelledCandidate, cycle_signatures
from mfdisco.active_loop.stopping import stop_reason


def test_stop_reasons() -> None:
    assert stop_reason([1, 0], ccsd_t_used=4, ccsd_t_budget=20, k_select=2, max_cycles=5, patience=3) is None
    assert "max_cycles" in stop_reason([1, 0, 0], 6, 20, 2, max_cycles=3, patience=3)
    assert "budget" in stop_reason([1], ccsd_t_used=19, ccsd_t_budget=20, k_select=2, max_cycles=5, patience=3)
    assert "no discovery" in stop_reason([2, 0, 0, 0], 8, 20, 2, max_cycles=10, patience=3)
    assert stop_reason([0, 0, 1], 6, 20, 2, max_cycles=10, patience=3) is None


def test_signatures_fire_only_when_they_should() -> None:
    right = LabelledCandidate(divergence=0.5, pred_ef_ccsd_t=-1.0, std_ccsd_t=0.05, ef_ccsd_t=-1.02, e_hull_ccsd_t=0.3)
    assert cycle_signatures(0.9, [right], [0.1, 0.5], [1], budget_left=5) == []
    # predicted 0.3 - 0.4 = -0.1 -> "stable"; the label says 0.3 above the hull; error 0.4 >> 2σ = 0.1
    wrong = LabelledCandidate(divergence=0.5, pred_ef_ccsd_t=-1.4, std_ccsd_t=0.05, ef_ccsd_t=-1.0, e_hull_ccsd_t=0.3)
    names = [s["name"] for s in cycle_signatures(0.5, [wrong], [0.1, 0.5], [0, 0], budget_left=5)]
    assert names == ["metallicity_trap", "validator_overconfidence", "stagnation"]
    # the same error within the ensemble's 2σ is not overconfidence; no budget left is not stagnation
    honest = LabelledCandidate(divergence=0.5, pred_ef_ccsd_t=-1.4, std_ccsd_t=0.3, ef_ccsd_t=-1.0, e_hull_ccsd_t=0.3)
    assert cycle_signatures(0.9, [honest], [0.1, 0.5], [0, 0], budget_left=0) == []


def test_compositions_are_charge_balanced_and_sized() -> None:
    found = candidate_compositions(["O", "Mg"], 2, 4)
    assert {"Mg": 1, "O": 1} in found and {"Mg": 1, "O": 2} in found and {"Mg": 2, "O": 2} in found
    assert all(2 <= sum(c.values()) <= 4 and len(c) == 2 for c in found)
    assert {"Mg": 2, "O": 1} not in found  # Mg⁺ is not among SMACT's states with O²⁻ here
    drawn = draw_compositions(found, 10, np.random.default_rng(0))
    assert len(drawn) == 10 and all(set(z) <= {8, 12} for z in drawn)
    with pytest.raises(ValueError, match="two elements"):
        candidate_compositions(["Mg"], 1, 3)
