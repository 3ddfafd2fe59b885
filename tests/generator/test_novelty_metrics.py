"""Uniqueness, novelty and the metallicity-trap monitor."""

from __future__ import annotations

import logging

import pytest

from mfdisco.core import Crystal
from mfdisco.generator.datasets.prototypes import bcc, fcc, hcp, rocksalt
from mfdisco.generator.metrics.novelty import metallicity_trap, novelty, uniqueness


def test_uniqueness_and_novelty_see_through_settings() -> None:
    nacl = rocksalt("Na", "Cl", 2.82)
    supercell = Crystal.from_pymatgen(nacl.to_pymatgen() * (2, 1, 1))
    mgo = rocksalt("Mg", "O", 2.1)
    assert uniqueness([nacl, supercell, mgo]) == pytest.approx(2 / 3)
    assert novelty([nacl, mgo], known=[supercell]) == pytest.approx(0.5)
    assert novelty([], known=[nacl]) == 0.0


def test_metallicity_trap_counts_close_packed_samples_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    metals = [fcc("Cu", 2.55), bcc("Fe", 2.48), hcp("Mg", 3.2)]
    alloy = Crystal.from_pymatgen(fcc("Cu", 2.55).to_pymatgen() * (2, 1, 1))
    alloy = Crystal(alloy.lattice, alloy.frac_coords, [29, 79])  # CuAu on an fcc lattice
    oxide = rocksalt("Mg", "O", 2.1)
    with caplog.at_level(logging.WARNING):
        report = metallicity_trap([*metals, alloy, oxide], known=metals)
    assert report.close_packed_share == pytest.approx(0.8)
    assert report.novelty == pytest.approx(0.4) and report.warning
    assert "metallicity trap" in caplog.text
    assert not metallicity_trap([oxide], known=metals).warning
