"""The reference pool's membership: fixed, >= 200 small valid crystals, a >= 60 subset."""

from __future__ import annotations

import pytest

from mfdisco.core import structural_problems
from mfdisco.labeller.pool_members import matching_members, pool_members
from tests.benchmarks import load_script


def test_pool_is_fixed_large_enough_small_and_valid() -> None:
    members = pool_members()
    again = pool_members()
    assert [m[1].canonical_hash() for m in members] == [m[1].canonical_hash() for m in again]  # seeded
    assert len(members) >= 200
    assert len({m[1].canonical_hash() for m in members}) == len(members)
    assert all(1 <= m[1].num_sites <= 6 for m in members)
    assert sum(subset for *_, subset in members) >= 60
    assert all(not structural_problems(crystal, 1.0) for _, crystal, _ in members)
    names = {name.split(":")[0] for name, *_ in members}
    assert {"rocksalt", "perovskite", "rutile", "fluorite", "ordered-rocksalt", "ordered-rutile", "perturbed0", "molecular"} <= names


def test_distinct_compounds_are_labelled_before_perturbed_variants() -> None:
    """Among the easy members, every distinct compound comes before any perturbed variant (build_pool's order)."""
    pool = load_script("pool/build_pool.py")
    members = [m for m in pool_members() if m[0].split(":")[0] in ("rocksalt", "perturbed0", "perturbed1", "fluorite", "fcc", "molecular")][:40]
    order = [name for name, crystal, _ in sorted(members, key=lambda m: pool._member_cost(m[0], m[1])) if not pool._member_cost(name, crystal)[0]]
    first_perturbed = next(i for i, name in enumerate(order) if name.startswith("perturbed"))
    assert first_perturbed > 0 and all(name.startswith("perturbed") for name in order[first_perturbed:])


def test_members_are_chosen_by_name_pattern_and_a_pattern_matching_nothing_is_refused() -> None:
    members = pool_members()
    chosen = matching_members(members, ["ordered-rocksalt:Mg*", "rocksalt:MgO"])
    assert {name for name, *_ in chosen} == {"rocksalt:MgO"} | {n for n, *_ in members if n.startswith("ordered-rocksalt:Mg")}
    assert matching_members(members, None) == members
    with pytest.raises(ValueError, match="'rocksalt:XyO'"):
        matching_members(members, ["rocksalt:MgO", "rocksalt:XyO"])
