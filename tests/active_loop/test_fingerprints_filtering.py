"""Fingerprint invariances and the candidate filter's reasons."""

from __future__ import annotations

import numpy as np

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
