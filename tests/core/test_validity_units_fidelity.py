"""Structural validity, unit constants and the Fidelity enum."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units as ase_units

from mfdisco.core import (
    BOHR_TO_ANGSTROM,
    HARTREE_TO_EV,
    KCAL_PER_MOL_TO_EV,
    Crystal,
    Fidelity,
    InvalidCrystalError,
    check_structure,
    closest_pair,
    is_structurally_valid,
    structural_problems,
    tightest_contact,
)


def test_overlapping_atoms_are_found_across_the_periodic_boundary() -> None:
    crystal = Crystal.from_species(np.eye(3) * 5.0, ["Mg", "O"], [[0.01, 0.5, 0.5], [0.95, 0.5, 0.5]])
    (problem,) = structural_problems(crystal)
    assert "overlapping atoms" in problem and "0.300 Å" in problem
    with pytest.raises(InvalidCrystalError, match="overlapping"):
        check_structure(crystal)


def test_an_atom_too_close_to_its_own_image_is_found() -> None:
    tiny = Crystal.from_species(np.diag([0.45, 5.0, 5.0]), ["H"], [[0, 0, 0]])
    assert not is_structurally_valid(tiny)


def test_sensible_structure_is_valid(rocksalt_mgo: Crystal) -> None:
    assert structural_problems(rocksalt_mgo) == []
    assert not is_structurally_valid(rocksalt_mgo, min_distance=2.2)  # Mg-O is 2.105 Å


def test_tightest_contact_is_relative_to_covalent_radii_and_sees_images(rocksalt_mgo: Crystal) -> None:
    i, j, distance, ratio = tightest_contact(rocksalt_mgo)
    assert {rocksalt_mgo.species[i], rocksalt_mgo.species[j]} == {"Mg", "O"}
    assert distance == pytest.approx(2.105) and ratio == pytest.approx(2.105 / (1.41 + 0.66), abs=1e-3)  # Cordero radii
    # a short Mg-Mg contact to the atom's own image beats a longer Mg-O distance in ratio
    chain = Crystal.from_species(np.diag([1.8, 6.0, 6.0]), ["Mg", "O"], [[0, 0, 0], [0, 0.5, 0]])
    i, j, distance, ratio = tightest_contact(chain)
    assert (chain.species[i], chain.species[j]) == ("Mg", "Mg") and distance == pytest.approx(1.8)
    assert ratio == pytest.approx(1.8 / 2.82, abs=1e-3)
    # a vanadyl V=O bond of 1.58 Å (V2O5) is a real bond: above the campaign's 0.7
    vanadyl = Crystal.from_species(np.eye(3) * 6.0, ["V", "O"], [[0, 0, 0], [1.58 / 6.0, 0, 0]])
    assert 0.7 < tightest_contact(vanadyl)[3] < 0.75


def test_units_are_pyscfs_own_and_agree_with_ase() -> None:
    from pyscf.data import nist

    # Labels come from PySCF: convert with exactly its constants.
    assert HARTREE_TO_EV == nist.HARTREE2EV
    assert BOHR_TO_ANGSTROM == nist.BOHR
    # ASE defaults to CODATA 2014: the same to 1e-8.
    assert HARTREE_TO_EV == pytest.approx(ase_units.Hartree, rel=1e-8)
    assert BOHR_TO_ANGSTROM == pytest.approx(ase_units.Bohr, rel=1e-8)
    assert KCAL_PER_MOL_TO_EV == pytest.approx(ase_units.kcal / ase_units.mol, rel=1e-8)
    assert KCAL_PER_MOL_TO_EV * 1000 == pytest.approx(43.364, abs=1e-3)  # the rMD17 README's figure


def test_fidelity_order_and_parsing() -> None:
    assert [f.value for f in sorted(Fidelity, key=lambda f: f.rank)] == ["pbe", "scan", "hse06", "ccsd_t"]
    assert Fidelity.parse("CCSD(T)") is Fidelity.CCSD_T
    assert Fidelity.parse("HSE") is Fidelity.HSE06
    assert Fidelity.parse("r2scan") is Fidelity.SCAN
    assert str(Fidelity.PBE) == "pbe"
    with pytest.raises(ValueError, match="unknown fidelity 'mp2'"):
        Fidelity.parse("mp2")


def test_a_huge_skewed_generated_cell_is_checked_cheaply() -> None:
    """A diffusion sample with lattice vectors of ~1000 Å and a 17° angle (pymatgen's grid
    search tried to allocate 42 GB for it): the LLL-reduced search answers at once."""
    lattice = np.array([[1365.5, 0.0, 0.0], [1918.0, 586.0, 0.0], [-240.0, 120.0, 90.0]])
    crystal = Crystal.from_species(lattice, ["Ca", "Ca"], [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3005]])
    assert closest_pair(crystal, 0.5) is not None and not is_structurally_valid(crystal)
    apart = Crystal.from_species(lattice, ["Ca", "Ca"], [[0.1, 0.2, 0.3], [0.6, 0.7, 0.8]])
    assert is_structurally_valid(apart)
