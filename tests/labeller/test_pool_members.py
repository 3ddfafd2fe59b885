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


def test_monoxide_polymorphs_have_the_coordination_of_their_prototype_and_come_last() -> None:
    """B2 and B3 AO, bond = sum of the Shannon radii at 8- and 4-fold coordination, after the seeded members."""
    members = pool_members()
    names = [name for name, *_ in members]
    polymorphs = {n: c for n, c, _ in members if n.split(":")[0] in ("cesium-chloride", "zincblende")}
    assert set(polymorphs) == {"cesium-chloride:MgO", "cesium-chloride:CaO", "cesium-chloride:SrO", "cesium-chloride:BaO", "zincblende:MgO"}
    assert names[-len(polymorphs):] == list(polymorphs)  # appended: the seeded subset and perturbations are unchanged
    assert not any(subset for n, _, subset in members if n in polymorphs)
    b2, rocksalt = polymorphs["cesium-chloride:MgO"].to_pymatgen(), next(c for n, c, _ in members if n == "rocksalt:MgO").to_pymatgen()
    b2_bonds = sorted(n.nn_distance for n in b2.get_neighbors(b2[0], 2.5))
    assert len(b2_bonds) == 8 and b2_bonds[0] == pytest.approx(0.89 + 1.42, abs=1e-3)  # Shannon Mg2+ VIII + O2- VIII
    assert min(n.nn_distance for n in rocksalt.get_neighbors(rocksalt[0], 2.5)) == pytest.approx(0.72 + 1.40, abs=1e-3)
    zincblende = polymorphs["zincblende:MgO"].to_pymatgen()
    assert len(zincblende.get_neighbors(zincblende[0], 2.1)) == 4
