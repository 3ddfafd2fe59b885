"""Fingerprint invariances and the candidate filter's reasons."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.active_loop.filtering import filter_candidates
from mfdisco.active_loop.fingerprints import fingerprints, structure_fingerprint
from mfdisco.core import Crystal
from mfdisco.generator.datasets.prototypes import rocksalt


def _mgo() -> Crystal:
    return rocksalt("Mg", "O", 2.105)


def test_fingerprint_invariant_to_supercell_permutation_rotation_translation(rng: np.random.Generator) -> None:
    cell = _mgo()
    reference = structure_fingerprint(cell)
    supercell = Crystal.from_pymatgen(cell.to_pymatgen().make_supercell([2, 1, 1], in_place=False))
    permuted = Crystal(cell.lattice, cell.frac_coords[::-1], cell.atomic_numbers[::-1])
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    rotated = Crystal(cell.lattice @ rotation.T, (cell.frac_coords + 0.13) % 1.0, cell.atomic_numbers)
    for other in (supercell, permuted, rotated):
        np.testing.assert_allclose(structure_fingerprint(other), reference, atol=1e-6)


def test_fingerprint_separates_structures() -> None:
    a, b = fingerprints([_mgo(), rocksalt("Mg", "O", 2.3)])
    c = structure_fingerprint(rocksalt("Ca", "O", 2.4))
    assert np.linalg.norm(a - b) > 0.05  # same composition, other geometry
    assert np.linalg.norm(a - c) > np.linalg.norm(a - b)  # other composition too


def test_filter_reasons() -> None:
    mgo = _mgo()
    strained = rocksalt("Mg", "O", 2.105 * 1.01)  # StructureMatcher says: the same structure
    overlapping = Crystal.from_species(np.eye(3) * 3.0, ["Mg", "O"], [[0, 0, 0], [0.05, 0, 0]])
    wrong_element = rocksalt("Ca", "O", 2.4)
    new = Crystal.from_species(np.eye(3) * 2.6, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # CsCl-type MgO
    again = Crystal.from_species(np.eye(3) * 2.6, ["O", "Mg"], [[0.1, 0.1, 0.1], [0.6, 0.6, 0.6]])  # the same, shifted
    report = filter_candidates([mgo, strained, overlapping, wrong_element, new, again], [mgo], ["Mg", "O"], 2, 3)
    assert report.kept == [4]
    assert report.reasons == {
        "duplicate (canonical hash)": 2, "structurally invalid": 1, "elements outside the campaign": 1, "duplicate (StructureMatcher)": 1,
    } or report.reasons == {
        "duplicate (canonical hash)": 1, "structurally invalid": 1, "elements outside the campaign": 1, "duplicate (StructureMatcher)": 2,
    }
    assert report.n_valid == 4 and report.novelty == 0.25


def test_contact_screen_drops_compressed_candidates_only() -> None:
    compressed = Crystal.from_species(np.diag([2.07, 2.59, 3.70]), ["Mg", "O"], [[0, 0, 0], [0, 0, 1.335 / 3.70]])  # Mg-O 1.335 Å
    cscl = Crystal.from_species(np.eye(3) * 2.6, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # Mg-O 2.25 Å, ratio 1.09
    assert filter_candidates([compressed, cscl], [], ["Mg", "O"], 2, 3).kept == [0, 1]  # no screen: both structurally valid
    report = filter_candidates([compressed, cscl], [], ["Mg", "O"], 2, 3, min_contact_ratio=0.7)
    assert report.kept == [1] and report.reasons == {"atoms closer than 0.7x their covalent radii": 1}


def test_atomic_volumes_and_rescaling() -> None:
    from mfdisco.active_loop.volumes import expected_volume, expected_volumes, fit_atomic_volumes, scale_to_volume

    def cube(species: list[str], volume: float) -> Crystal:
        frac = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0]][: len(species)]
        return Crystal.from_species(np.eye(3) * volume ** (1 / 3), species, frac)

    # additive by construction: v_Mg = 10, v_O = 8, v_Ca = 20 Å³/atom
    known = [cube(["Mg"], 10.0), cube(["O", "O"], 16.0), cube(["Mg", "O"], 18.0), cube(["Ca", "O"], 28.0)]
    volumes = fit_atomic_volumes(known)
    assert volumes == pytest.approx({"Ca": 20.0, "Mg": 10.0, "O": 8.0})
    assert expected_volume(cube(["Mg", "O", "O"], 50.0), volumes) == pytest.approx(26.0)
    assert expected_volume(Crystal.from_species(np.eye(3) * 3, ["Ba"], [[0, 0, 0]]), volumes) is None
    # same chemical system known: its mean volume per atom; elemental structures never count
    candidates = [cube(["Mg", "O", "O"], 50.0), cube(["Ca", "Mg", "O"], 50.0), cube(["Ba", "O"], 50.0)]
    assert expected_volumes(candidates, known + [cube(["Mg", "O", "O"], 26.0)]) == pytest.approx([26.5, 38.0, None])  # Mg-O: mean of 9 and 26/3 Å³/atom, x 3
    mgo = _mgo()
    blown_up = Crystal(mgo.lattice * 1.6, mgo.frac_coords, mgo.atomic_numbers)
    rescaled = scale_to_volume(blown_up, mgo.volume)
    np.testing.assert_allclose(rescaled.lattice, mgo.lattice, atol=1e-9)
    with pytest.raises(ValueError, match="positive"):
        scale_to_volume(mgo, 0.0)


def test_a_relaxation_that_squeezes_or_inflates_the_cell_is_not_accepted() -> None:
    from mfdisco.active_loop.volumes import relaxation_accepted

    start = _mgo()  # 9.33 Å³/atom, as scaled to the expected volume

    def at(volume_per_atom: float) -> Crystal:
        factor = (volume_per_atom * start.num_sites / start.volume) ** (1 / 3)
        return Crystal(start.lattice * factor, start.frac_coords, start.atomic_numbers)

    # the campaign's measured cases: squeezed to 5.8 and inflated to 14.5 Å³/atom; a 1.22x polymorph-like change passes
    assert [relaxation_accepted(start, at(v), 1.5) for v in (5.8, 7.65, 9.33, 11.4, 14.5)] == [False, True, True, True, False]
    assert relaxation_accepted(start, at(14.5), 1.6)
    with pytest.raises(ValueError, match="at least 1"):
        relaxation_accepted(start, start, 0.9)


def test_reduced_cell_is_the_same_structure_with_short_vectors() -> None:
    from mfdisco.active_loop.volumes import reduced_cell

    mgo = _mgo()
    skewed_lattice = np.array([[1, 0, 0], [3, 1, 0], [-2, 4, 1]]) @ mgo.lattice  # unimodular: same lattice
    skewed = Crystal(skewed_lattice, mgo.cart_coords @ np.linalg.inv(skewed_lattice) % 1.0, mgo.atomic_numbers)
    reduced = reduced_cell(skewed)
    assert reduced.canonical_hash() == mgo.canonical_hash()
    assert np.linalg.norm(reduced.lattice, axis=1).max() < 0.5 * np.linalg.norm(skewed.lattice, axis=1).max()
    assert reduced.volume == pytest.approx(mgo.volume) and list(reduced.species) == list(mgo.species)
