"""HSE06's short-range exchange as full-range minus long-range equals PySCF's direct evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import HARTREE_TO_EV, Crystal
from mfdisco.labeller import LabelSettings, label, settings_hash
from mfdisco.labeller.range_separation import ATTENUATED_DESCRIPTION, SPLIT_DESCRIPTION, asks_short_range_exchange, with_split_short_range_exchange

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


def test_split_short_range_exchange_reproduces_pyscf_on_a_k_mesh() -> None:
    direct = _hse06((2, 1, 1), split=False)  # PySCF's erfc-attenuated density-fitting integrals
    split = _hse06((2, 1, 1), split=True)
    assert split == pytest.approx(direct, abs=1e-7)


def test_only_screened_hybrids_ask_for_short_range_exchange() -> None:
    assert asks_short_range_exchange("HSE06")
    assert not asks_short_range_exchange("PBE")
    assert not asks_short_range_exchange("PBE0")  # full-range exact exchange
    assert not asks_short_range_exchange("CAMB3LYP")  # full range plus long range


def test_an_hse06_label_uses_and_records_the_split_and_matches_pyscfs_own_evaluation() -> None:
    helium = Crystal.from_species(HE_LATTICE, ["He"], [[0.0, 0.0, 0.0]])
    settings = LabelSettings(basis="gth-dzv", pseudo="gth-pade", descriptors=False)
    split = label(helium, "hse06", settings)
    assert split.status == "done", split.error
    assert split.details["short_range_exchange"] == SPLIT_DESCRIPTION
    assert split.energy_ev / HARTREE_TO_EV == pytest.approx(_hse06((1, 1, 1), split=True), abs=1e-6)
    attenuated_settings = settings.model_copy(update={"short_range_exchange": "attenuated"})
    attenuated = label(helium, "hse06", attenuated_settings)
    assert attenuated.details["short_range_exchange"] == ATTENUATED_DESCRIPTION
    assert split.energy_ev == pytest.approx(attenuated.energy_ev, abs=1e-7 * HARTREE_TO_EV)
    assert settings_hash("hse06", settings) == settings_hash("hse06", attenuated_settings)  # same physics, same stored label
    assert "short_range_exchange" not in label(helium, "pbe", settings).details
