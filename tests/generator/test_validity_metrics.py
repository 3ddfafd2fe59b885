"""Structural and SMACT compositional validity on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal
from mfdisco.generator.metrics import compositional_validity, structural_validity


def test_charge_neutral_compositions() -> None:
    assert compositional_validity({"Na": 1, "Cl": 1})
    assert not compositional_validity({"Na": 1, "Cl": 2})
    assert compositional_validity({"Sr": 1, "Ti": 1, "O": 3}) and compositional_validity({"Mg": 2, "O": 2})
    assert not compositional_validity({"Mg": 1, "O": 3})
    assert compositional_validity({"Cu": 3, "Au": 1}) and compositional_validity({"C": 8})  # alloy, element


def test_pauling_test_rejects_a_cation_more_electronegative_than_its_anion() -> None:
    # SiCl is neutral only as Si(-1) Cl(+1) or Si(-3) Cl(+3): the anion would be the less
    # electronegative element (Si 1.90 < Cl 3.16), so the Pauling test rejects it.
    assert not compositional_validity({"Si": 1, "Cl": 1})
    assert compositional_validity({"Si": 1, "Cl": 4})  # Si(+4) Cl(-1)


def test_structural_validity_of_an_overlapping_structure() -> None:
    rocksalt = Crystal.from_species(np.eye(3) * 4.2, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    overlapping = Crystal.from_species(np.eye(3) * 4.2, ["Na", "Cl"], [[0, 0, 0], [0.05, 0.0, 0.0]])
    assert structural_validity(rocksalt) and not structural_validity(overlapping)


def test_bad_counts_are_named() -> None:
    with pytest.raises(ValueError, match="positive integers"):
        compositional_validity({"Na": 0, "Cl": 1})
