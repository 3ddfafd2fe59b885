"""Canonical hash: identical for one structure in any description, different for different structures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mfdisco.core import Crystal


def _translated(crystal: Crystal, shift: np.ndarray) -> Crystal:
    return Crystal(crystal.lattice, crystal.frac_coords + shift, crystal.atomic_numbers)


def _permuted(crystal: Crystal, order: np.ndarray) -> Crystal:
    return Crystal(crystal.lattice, crystal.frac_coords[order], crystal.atomic_numbers[order])


def _supercell(crystal: Crystal, repeats: tuple[int, int, int]) -> Crystal:
    structure = crystal.to_pymatgen()
    structure.make_supercell(list(repeats))
    return Crystal.from_pymatgen(structure)


def _other_setting(crystal: Crystal, basis_change: np.ndarray, rotation: np.ndarray) -> Crystal:
    """Same structure, new basis (rows M @ L, det M = ±1) seen in a rotated Cartesian frame."""
    lattice = basis_change @ crystal.lattice @ rotation.T
    frac = crystal.frac_coords @ np.linalg.inv(basis_change)
    return Crystal(lattice, frac, crystal.atomic_numbers)


@pytest.fixture(params=["rocksalt_mgo", "low_symmetry"])
def crystal(request: pytest.FixtureRequest) -> Crystal:
    return request.getfixturevalue(request.param)


def test_translation_invariance(crystal: Crystal, rng: np.random.Generator) -> None:
    assert _translated(crystal, rng.random(3)).canonical_hash() == crystal.canonical_hash()


def test_permutation_invariance(crystal: Crystal, rng: np.random.Generator) -> None:
    assert _permuted(crystal, rng.permutation(crystal.num_sites)).canonical_hash() == crystal.canonical_hash()


@pytest.mark.parametrize("repeats", [(2, 1, 1), (1, 1, 3), (2, 2, 1)])
def test_supercell_invariance(crystal: Crystal, repeats: tuple[int, int, int]) -> None:
    assert _supercell(crystal, repeats).canonical_hash() == crystal.canonical_hash()


@pytest.mark.parametrize(
    "basis_change",
    [
        np.array([[1, 1, 0], [0, 1, 0], [1, 1, 1]]),
        np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]]),  # left-handed relabelling (det -1)
        np.array([[1, 0, 0], [-1, 1, 0], [2, 0, 1]]),
    ],
)
def test_lattice_setting_and_rotation_invariance(crystal: Crystal, basis_change: np.ndarray) -> None:
    rotation = Rotation.random(random_state=7).as_matrix()
    other = _other_setting(crystal, basis_change, rotation)
    assert not np.allclose(other.lattice, crystal.lattice)
    assert other.canonical_hash() == crystal.canonical_hash()


def test_all_transformations_at_once(low_symmetry: Crystal, rng: np.random.Generator) -> None:
    other = _supercell(low_symmetry, (1, 2, 1))
    other = _other_setting(other, np.array([[1, 0, 1], [0, 1, 0], [0, 0, 1]]), Rotation.random(random_state=3).as_matrix())
    other = _permuted(_translated(other, rng.random(3)), rng.permutation(other.num_sites))
    assert other.canonical_hash() == low_symmetry.canonical_hash()


def test_distorted_structure_hashes_differently(crystal: Crystal) -> None:
    frac = np.array(crystal.frac_coords)
    frac[0] += np.array([0.03, -0.02, 0.01])  # about 0.1 Å
    assert Crystal(crystal.lattice, frac, crystal.atomic_numbers).canonical_hash() != crystal.canonical_hash()


def test_strained_lattice_and_swapped_species_hash_differently(rocksalt_mgo: Crystal) -> None:
    strained = Crystal(rocksalt_mgo.lattice * [1.0, 1.0, 1.02], rocksalt_mgo.frac_coords, rocksalt_mgo.atomic_numbers)
    assert strained.canonical_hash() != rocksalt_mgo.canonical_hash()
    cao = Crystal(rocksalt_mgo.lattice, rocksalt_mgo.frac_coords, np.where(rocksalt_mgo.atomic_numbers == 12, 20, 8))
    assert cao.canonical_hash() != rocksalt_mgo.canonical_hash()


def test_polymorphs_of_one_element_hash_differently() -> None:
    from mfdisco.generator.datasets import prototypes

    hashes = {prototypes.fcc("Ni", 2.49).canonical_hash(), prototypes.bcc("Ni", 2.49).canonical_hash(), prototypes.hcp("Ni", 2.49).canonical_hash()}
    assert len(hashes) == 3
