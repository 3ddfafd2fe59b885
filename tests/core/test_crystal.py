"""Crystal: validation, derived values, conversions."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal, InvalidCrystalError, atomic_number, element_symbol


def test_frac_coords_are_wrapped_and_arrays_read_only(rocksalt_mgo: Crystal) -> None:
    shifted = Crystal(rocksalt_mgo.lattice, rocksalt_mgo.frac_coords + [1.0, -2.0, 3.0], rocksalt_mgo.atomic_numbers)
    assert np.all((shifted.frac_coords >= 0) & (shifted.frac_coords < 1))
    assert shifted.allclose(rocksalt_mgo)
    with pytest.raises(ValueError):
        shifted.frac_coords[0, 0] = 0.3


def test_derived_values_of_mgo(rocksalt_mgo: Crystal) -> None:
    assert rocksalt_mgo.num_sites == 8
    assert rocksalt_mgo.reduced_formula == "MgO"
    assert rocksalt_mgo.chemical_system == "Mg-O"
    assert rocksalt_mgo.volume == pytest.approx(4.21**3)
    # Periclase: 4 MgO per 74.6 Å3 -> 3.59 g/cm3 (experiment 3.58).
    assert rocksalt_mgo.density == pytest.approx(3.59, abs=0.01)
    a, b, c, alpha, beta, gamma = rocksalt_mgo.lattice_parameters
    assert (a, b, c) == pytest.approx((4.21, 4.21, 4.21))
    assert (alpha, beta, gamma) == pytest.approx((90, 90, 90))


@pytest.mark.parametrize(
    ("lattice", "frac", "numbers", "message"),
    [
        (np.eye(3) * np.nan, [[0, 0, 0]], [12], "non-finite"),
        (np.eye(3) * 4, [[0, np.inf, 0]], [12], "non-finite"),
        ([[1, 0, 0], [2, 0, 0], [0, 0, 1]], [[0, 0, 0]], [12], "singular"),
        (np.eye(3) * 0.01, [[0, 0, 0]], [12], "singular"),
        (np.eye(3) * 4, np.zeros((0, 3)), [], "at least one site"),
        (np.eye(3) * 4, [[0, 0, 0]], [0], "unknown element"),
        (np.eye(3) * 4, [[0, 0, 0]], [119], "unknown element"),
        (np.eye(3) * 4, [[0, 0, 0], [0.5, 0.5, 0.5]], [12], "atomic_numbers must be"),
        (np.eye(2) * 4, [[0, 0, 0]], [12], "3x3"),
        (np.eye(3) * 4, [[0, 0]], [12], "(N, 3)"),
        (np.eye(3) * 4, [[0, 0, 0]], [12.5], "integers"),
        ("abc", [[0, 0, 0]], [12], "not numeric"),
    ],
)
def test_invalid_input_is_rejected_with_its_reason(lattice, frac, numbers, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidCrystalError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Crystal(lattice, np.asarray(frac, dtype=float), np.asarray(numbers))


def test_element_symbols() -> None:
    assert atomic_number("mg") == 12
    assert element_symbol(8) == "O"
    with pytest.raises(InvalidCrystalError, match="unknown element 'Xx'"):
        atomic_number("Xx")
    with pytest.raises(InvalidCrystalError, match="unknown element"):
        Crystal.from_species(np.eye(3) * 4, ["Qq"], [[0, 0, 0]])


def test_pymatgen_round_trip(low_symmetry: Crystal) -> None:
    back = Crystal.from_pymatgen(low_symmetry.to_pymatgen())
    assert back.allclose(low_symmetry, atol=1e-10)


def test_ase_round_trip(low_symmetry: Crystal) -> None:
    back = Crystal.from_ase(low_symmetry.to_ase())
    assert back.allclose(low_symmetry, atol=1e-10)
    assert np.allclose(low_symmetry.to_ase().get_positions(), low_symmetry.cart_coords)


def test_dict_round_trip(low_symmetry: Crystal) -> None:
    assert Crystal.from_dict(low_symmetry.to_dict()).allclose(low_symmetry, atol=0)
    with pytest.raises(InvalidCrystalError, match="lacks the key 'lattice'"):
        Crystal.from_dict({"frac_coords": [[0, 0, 0]], "atomic_numbers": [1]})


def test_non_periodic_atoms_and_disordered_structures_are_refused() -> None:
    from ase import Atoms
    from pymatgen.core import Lattice, Structure

    with pytest.raises(InvalidCrystalError, match="periodic along all three axes"):
        Crystal.from_ase(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=np.eye(3) * 5, pbc=[True, True, False]))
    disordered = Structure(Lattice.cubic(4.0), [{"Mg": 0.5, "Fe": 0.5}, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(InvalidCrystalError, match="disordered"):
        Crystal.from_pymatgen(disordered)
