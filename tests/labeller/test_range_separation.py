"""HSE06's short-range exchange as full-range minus long-range equals PySCF's direct evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import HARTREE_TO_EV, Crystal
from mfdisco.labeller import LabelSettings, label
from mfdisco.labeller.range_separation import SPLIT_DESCRIPTION, asks_short_range_exchange, with_split_short_range_exchange

HE_LATTICE = 1.6 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])  # Å, compressed fcc He: overlapping densities


def _hse06(kmesh: tuple[int, int, int], split: bool) -> float:
    from pyscf.pbc import dft, gto

    cell = gto.M(a=HE_LATTICE, atom="He 0 0 0", unit="A", basis="gth-dzv", pseudo="gth-pade", verbose=0)
    if kmesh == (1, 1, 1):
        mf = dft.RKS(cell, xc="HSE06").density_fit()
    else:
        mf = dft.KRKS(cell, cell.make_kpts(kmesh), xc="HSE06").density_fit()
    if split:
        mf = with_split_short_range_exchange(mf)
    energy = mf.kernel()
    assert mf.converged
    return float(energy)


@pytest.mark.parametrize("kmesh", [(1, 1, 1), (2, 1, 1)], ids=["gamma", "kmesh-211"])
def test_split_short_range_exchange_reproduces_pyscf(kmesh: tuple[int, int, int]) -> None:
    direct = _hse06(kmesh, split=False)  # PySCF's erfc-attenuated density-fitting integrals
    split = _hse06(kmesh, split=True)
    assert split == pytest.approx(direct, abs=1e-7)


def test_only_screened_hybrids_ask_for_short_range_exchange() -> None:
    assert asks_short_range_exchange("HSE06")
    assert not asks_short_range_exchange("PBE")
    assert not asks_short_range_exchange("PBE0")  # full-range exact exchange
    assert not asks_short_range_exchange("CAMB3LYP")  # full range plus long range


def test_an_hse06_label_uses_and_records_the_split() -> None:
    helium = Crystal.from_species(HE_LATTICE, ["He"], [[0.0, 0.0, 0.0]])
    settings = LabelSettings(basis="gth-dzv", pseudo="gth-pade", grid_level=3, descriptors=False)
    hse06 = label(helium, "hse06", settings)
    assert hse06.status == "done", hse06.error
    assert hse06.details["short_range_exchange"] == SPLIT_DESCRIPTION
    pbe = label(helium, "pbe", settings)
    assert "short_range_exchange" not in pbe.details
    assert hse06.energy_ev / HARTREE_TO_EV == pytest.approx(_hse06((1, 1, 1), split=True), abs=1e-6)
