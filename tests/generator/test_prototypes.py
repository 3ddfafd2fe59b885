"""Prototype geometry: the bond lengths asked for, the right coordination, sensible lattices."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal, structural_problems
from mfdisco.generator.datasets import builtin_prototypes, prototypes


def _neighbour_distances(crystal: Crystal, site: int, cutoff: float) -> list[float]:
    structure = crystal.to_pymatgen()
    return sorted(float(n.nn_distance) for n in structure.get_neighbors(structure[site], cutoff))


def _first_shell(crystal: Crystal, site: int) -> tuple[int, float]:
    """Coordination number and bond length of the nearest-neighbour shell (within 5 %)."""
    distances = np.array(_neighbour_distances(crystal, site, 4.5))
    shell = distances[distances < distances[0] * 1.05]
    return len(shell), float(shell.mean())


@pytest.mark.parametrize(
    ("build", "site", "coordination", "bond"),
    [
        (lambda: prototypes.rocksalt("Mg", "O", 2.12), 0, 6, 2.12),
        (lambda: prototypes.cesium_chloride("Cs", "Cl", 3.57), 0, 8, 3.57),
        (lambda: prototypes.cesium_chloride("Cs", "Cl", 3.57), 1, 8, 3.57),
        (lambda: prototypes.zincblende("Zn", "S", 2.34), 0, 4, 2.34),
        (lambda: prototypes.zincblende("Zn", "S", 2.34), 1, 4, 2.34),
        (lambda: prototypes.perovskite("Sr", "Ti", "O", 1.96), 1, 6, 1.96),
        (lambda: prototypes.perovskite("Sr", "Ti", "O", 1.96), 0, 12, 1.96 * np.sqrt(2)),
        (lambda: prototypes.fluorite("Ce", "O", 2.35), 0, 8, 2.35),
        (lambda: prototypes.rutile("Ti", "O", 1.965), 0, 6, 1.965),
        (lambda: prototypes.fcc("Ni", 2.49), 0, 12, 2.49),
        (lambda: prototypes.bcc("Fe", 2.48), 0, 8, 2.48),
        (lambda: prototypes.hcp("Mg", 3.2), 0, 12, 3.2),
    ],
)
def test_coordination_and_bond_length(build, site: int, coordination: int, bond: float) -> None:  # noqa: ANN001
    crystal = build()
    found_coordination, found_bond = _first_shell(crystal, site)
    assert found_coordination == coordination
    assert found_bond == pytest.approx(bond, abs=1e-6)


def test_spinel_tetrahedral_and_octahedral_bonds() -> None:
    crystal = prototypes.spinel("Mg", "Al", "O", 1.923, 1.925)
    assert crystal.num_sites == 14 and crystal.reduced_formula == "MgAl2O4"
    for site, symbol in enumerate(crystal.species):
        if symbol == "Mg":
            assert _first_shell(crystal, site) == (4, pytest.approx(1.923, abs=1e-6))
        if symbol == "Al":
            assert _first_shell(crystal, site) == (6, pytest.approx(1.925, abs=1e-6))
    a, u = prototypes.spinel_parameters(1.923, 1.925)
    assert a == pytest.approx(8.08, abs=0.01) and u == pytest.approx(0.2624, abs=1e-3)  # MgAl2O4, experiment
    with pytest.raises(ValueError, match="no spinel geometry"):
        prototypes.spinel_parameters(1.0, 3.0)


@pytest.mark.parametrize(
    ("source_id", "experiment_volume_per_atom"),
    [
        ("rocksalt:MgO", 4.212**3 / 8),
        ("rocksalt:NiO", 4.177**3 / 8),
        ("perovskite:SrTiO3", 3.905**3 / 5),
        ("rutile:TiO2", 4.594**2 * 2.959 / 6),
        ("spinel:MgAl2O4", 8.083**3 / 56),
        ("bcc:Fe", 2.866**3 / 2),
        ("fcc:Ni", 3.524**3 / 4),
        ("hcp:Mg", 3.209**2 * np.sqrt(3) / 2 * 5.211 / 2),
    ],
)
def test_builtin_volumes_within_ten_percent_of_experiment(source_id: str, experiment_volume_per_atom: float) -> None:
    records = {r.source_id: r for r in builtin_prototypes(["Mg", "Al", "Ti", "Sr", "Fe", "Ni", "O"])}
    crystal = records[source_id].crystal
    assert crystal.volume / crystal.num_sites == pytest.approx(experiment_volume_per_atom, rel=0.10)


def test_default_builtin_set_is_sensible() -> None:
    records = builtin_prototypes()
    prototypes_found = {r.properties["prototype"] for r in records}
    assert {"rocksalt", "perovskite", "spinel", "fluorite", "rutile", "fcc", "bcc", "hcp", "molecular"} <= prototypes_found
    assert len({r.crystal.canonical_hash() for r in records}) == len(records)
    assert len({r.source_id for r in records}) == len(records)
    for record in records:
        assert structural_problems(record.crystal, min_distance=1.1) == [], record.source_id
    perovskites = [r for r in records if r.properties["prototype"] == "perovskite"]
    assert all(0.8 <= r.properties["tolerance_factor"] <= 1.1 for r in perovskites)
    ground = {r.source_id for r in records if r.properties.get("ground_state")}
    assert {"hcp:Mg", "fcc:Ni", "bcc:Fe", "fcc:Ca"} <= ground


def test_element_list_is_configurable_and_checked() -> None:
    from mfdisco.core import InvalidCrystalError

    records = builtin_prototypes(["Ni"])
    assert sorted(r.source_id for r in records) == ["bcc:Ni", "fcc:Ni", "hcp:Ni"]
    with pytest.raises(InvalidCrystalError, match="unknown element 'Zz'"):
        builtin_prototypes(["Mg", "Zz"])
