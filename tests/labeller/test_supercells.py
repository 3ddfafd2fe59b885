"""Compact supercells for the Γ correlation: sublattice enumeration and the most compact choice."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal
from mfdisco.labeller.supercells import (
    compact_supercell_matrix,
    correlation_supercell,
    hermite_normal_forms,
    image_distances,
    supercell_kpoints,
    supercell_multiple,
)

A = 4.2  # Å, rocksalt MgO
FCC = 0.5 * A * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])


def test_every_sublattice_once() -> None:
    """Index-n sublattices of Z³: 7 for n = 2, 13 for n = 3, 35 for n = 4; all distinct, of determinant n."""
    for multiple, count in ((1, 1), (2, 7), (3, 13), (4, 35)):
        forms = hermite_normal_forms(multiple)
        assert len(forms) == count
        assert all(round(abs(np.linalg.det(form))) == multiple for form in forms)
        assert len({form.tobytes() for form in forms}) == count
    with pytest.raises(ValueError, match="multiple 0"):
        hermite_normal_forms(0)


def test_multiple_is_the_smallest_that_reaches_the_atom_count() -> None:
    assert [supercell_multiple(n, 4) for n in (1, 2, 3, 4, 5)] == [4, 2, 2, 1, 1]
    assert supercell_multiple(2, None) == 1


def test_image_distances_do_not_depend_on_the_basis() -> None:
    skewed = np.array([[1, 0, 0], [1, 1, 0], [3, 2, 1]]) @ FCC  # the same lattice, another basis
    assert np.allclose(image_distances(FCC), image_distances(skewed))
    assert image_distances(FCC)[0] == pytest.approx(A / np.sqrt(2))  # fcc nearest neighbours


def test_rocksalt_doubles_into_the_tetragonal_cell_of_the_ordered_rocksalts() -> None:
    """Of fcc's 7 index-2 sublattices, 3 tetragonal ones keep 4 of the 12 nearest-neighbour vectors, 4 rhombohedral ones 6."""
    matrix = compact_supercell_matrix(FCC, 2)
    distances = image_distances(matrix @ FCC)
    assert distances[:3] == pytest.approx([A / np.sqrt(2), A / np.sqrt(2), A])  # (a/√2, a/√2, a)
    rhombohedral = image_distances(np.array([[1, 0, 0], [0, 1, 0], [1, 1, 2]]) @ FCC)  # (111) doubling
    assert rhombohedral[2] == pytest.approx(A / np.sqrt(2))  # a third image at the nearest-neighbour distance: less compact


def test_a_strained_rocksalt_keeps_the_tetragonal_supercell() -> None:
    """Strains of up to 2 % (the pool's perturbed members) must not move the choice to a rhombohedral cell.

    Shortest-first without tolerance picked the rhombohedral cell whenever its shortest
    image distance came out a few hundredths of an Å longer; it did so for 14 of these 40
    strains, and for the pool's perturbed rocksalt SrO, whose Γ correlation energy then
    moved by 0.26 eV/atom.
    """
    rng = np.random.default_rng(7)
    for _ in range(40):
        strained = FCC @ (np.eye(3) + np.triu(rng.uniform(-0.02, 0.02, (3, 3))))
        third = image_distances(compact_supercell_matrix(strained, 2) @ strained)[2]
        assert third > 0.9 * A, third  # tetragonal: the third image at ~a, not at ~a/√2
    # The unstrained cell's choice is unchanged (the pool's rocksalt labels used it).
    assert compact_supercell_matrix(FCC, 2).tolist() == [[1, 0, 0], [0, 2, 0], [0, 1, 1]]


def test_correlation_supercell_is_the_same_solid() -> None:
    mgo = Crystal.from_species(FCC, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    supercell, matrix = correlation_supercell(mgo, 4)
    assert supercell.num_sites == 4 and supercell.volume == pytest.approx(2 * mgo.volume)
    assert round(abs(np.linalg.det(matrix))) == 2 and sorted(supercell.species) == ["Mg", "Mg", "O", "O"]
    ordered_cell = np.array([[A / 2, A / 2, 0], [A / 2, -A / 2, 0], [0, 0, A]])  # build_pool's ordered rocksalts
    assert np.allclose(image_distances(supercell.lattice), image_distances(ordered_cell))
    # every atom keeps its rocksalt environment: six neighbours of the other species at a/2
    structure = supercell.to_pymatgen()
    for index, site in enumerate(structure):
        neighbours = structure.get_neighbors(site, 0.55 * A)
        assert len(neighbours) == 6 and all(n.specie != site.specie for n in neighbours), index
        assert all(n.nn_distance == pytest.approx(A / 2) for n in neighbours)
    same, identity = correlation_supercell(supercell, 4)
    assert same is supercell and np.array_equal(identity, np.eye(3))


def test_supercell_kpoints_of_a_diagonal_matrix_are_the_gamma_centred_mesh() -> None:
    fractions = supercell_kpoints(np.diag([2, 1, 3]))
    mesh = np.array([[i / 2, 0.0, k / 3] for i in range(2) for k in range(3)])
    assert fractions.shape == (6, 3) and np.allclose(np.unique(np.round(mesh, 9), axis=0), fractions)
    assert np.allclose(fractions[0], 0.0)  # Γ first


def test_supercell_kpoints_have_the_supercell_periodicity() -> None:
    """|det H| distinct k-points, each with H f integer (e^{ik·R} = 1 on the supercell), for a non-diagonal H."""
    matrix = np.array([[1, 0, 0], [1, 2, 0], [0, 1, 3]])
    fractions = supercell_kpoints(matrix)
    assert len(fractions) == 6 and len(np.unique(np.round(fractions, 6), axis=0)) == 6
    products = fractions @ matrix.T  # rows H f
    assert np.allclose(products, np.round(products), atol=1e-8)
    with pytest.raises(ValueError, match="non-zero determinant"):
        supercell_kpoints(np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1]]))


def test_rocksalt_and_ordered_rocksalt_share_their_32_atom_born_von_karman_cell() -> None:
    """The 2-atom rocksalt (16 cells) and the 4-atom ordered rocksalt (8 cells) get one supercell: bcc, edges √3·a."""
    from mfdisco.labeller.pool_members import ordered_rocksalt

    rocksalt = Crystal.from_species(FCC, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ordered = ordered_rocksalt(rocksalt, rocksalt, "Mg", "Ca")  # same a: the lattice is what counts
    supercells = [compact_supercell_matrix(c.lattice, supercell_multiple(c.num_sites, 32)) @ c.lattice for c in (rocksalt, ordered)]
    first, second = (image_distances(lattice) for lattice in supercells)
    assert first == pytest.approx(second, abs=1e-6)
    assert first[:4] == pytest.approx([np.sqrt(3) * A] * 4)  # bcc of cube 2a: 4 shortest vectors ±(a, a, a)
    assert abs(np.linalg.det(supercells[0])) == pytest.approx(abs(np.linalg.det(supercells[1])))
    # kspacing 0.9 Å⁻¹ would sample them with 54- and 32-atom cells instead (3×3×3 and 2×2×2)
