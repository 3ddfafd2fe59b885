"""Label presets: what each family sets, and that unknown names are refused."""

from __future__ import annotations

import pytest

from mfdisco.core import Fidelity
from mfdisco.labeller import LabelSettings, settings_hash
from mfdisco.labeller.presets import METAL_SMEARING_HA, preset_settings


def test_gamma_is_the_labeller_default() -> None:
    for fidelity in Fidelity:
        assert settings_hash(fidelity, preset_settings("gamma", fidelity)) == settings_hash(fidelity, LabelSettings())


def test_kpoint_smears_dft_but_never_hartree_fock() -> None:
    for fidelity in (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06):
        settings = preset_settings("kpoint", fidelity)
        assert settings.kspacing == 0.9 and settings.smearing_ha == METAL_SMEARING_HA > 0
    ccsd_t = preset_settings("kpoint", Fidelity.CCSD_T)
    assert ccsd_t.smearing_ha == 0 and ccsd_t.correlation_at_gamma and ccsd_t.kspacing == 0.9


def test_kpoint_sc4_shares_the_dft_labels_of_kpoint_and_moves_the_correlation_only() -> None:
    for fidelity in (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06):
        assert settings_hash(fidelity, preset_settings("kpoint-sc4", fidelity)) == settings_hash(fidelity, preset_settings("kpoint", fidelity))
    kpoint, sc4 = preset_settings("kpoint", Fidelity.CCSD_T), preset_settings("kpoint-sc4", Fidelity.CCSD_T)
    assert sc4.correlation_supercell_atoms == 4 and kpoint.correlation_supercell_atoms is None
    assert sc4.model_copy(update={"correlation_supercell_atoms": None}) == kpoint


def test_changes_apply_on_top_and_unknown_presets_are_named() -> None:
    assert preset_settings("kpoint", "pbe", smearing_ha=0.0).smearing_ha == 0.0
    with pytest.raises(ValueError, match="'dense' is not one of gamma, kpoint"):
        preset_settings("dense", "pbe")


def test_kpoint_bvk32_samples_a_32_atom_supercell_and_keeps_the_rest_of_kpoint_sc4() -> None:
    for fidelity in Fidelity:
        bvk, sc4 = preset_settings("kpoint-bvk32", fidelity), preset_settings("kpoint-sc4", fidelity)
        assert bvk.kpoint_supercell_atoms == 32 and bvk.kspacing is None
        assert bvk.model_copy(update={"kpoint_supercell_atoms": None, "kspacing": 0.9}) == sc4
