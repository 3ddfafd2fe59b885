"""The replay benchmark's pool loading: members with both labels, and --exclude."""

from __future__ import annotations

import pytest

from mfdisco.active_loop.config import DEFAULT_POOL_FILE
from tests.benchmarks import load_script


def test_excluded_members_leave_the_replay_pool_and_a_pattern_matching_nothing_is_refused() -> None:
    replay = load_script("replay.py")
    crystals, labels, elements = replay.load(DEFAULT_POOL_FILE, "kpoint-sc4")
    assert len(crystals) == len(labels[replay.Fidelity.PBE]) == len(labels[replay.Fidelity.CCSD_T]) == len(elements)
    b2 = {c.canonical_hash() for c in crystals if c.num_sites == 2 and abs(c.lattice[0] @ c.lattice[1]) < 1e-9 and len(set(c.species)) == 2}
    assert b2  # the committed pool has labelled cesium-chloride (simple cubic 2-atom) oxides at kpoint-sc4
    kept, _, _ = replay.load(DEFAULT_POOL_FILE, "kpoint-sc4", ["cesium-chloride:*"])
    assert len(kept) == len(crystals) - len(b2) and not b2 & {c.canonical_hash() for c in kept}
    with pytest.raises(ValueError, match="'perovskite:XyO3'"):
        replay.load(DEFAULT_POOL_FILE, "kpoint-sc4", ["perovskite:XyO3"])
