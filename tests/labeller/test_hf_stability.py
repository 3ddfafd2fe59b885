"""The CCSD(T) reference is moved off HF saddle points (internal stability analysis)."""

from __future__ import annotations

import pytest

from mfdisco.core import Crystal, Fidelity
from mfdisco.labeller import LabelSettings, label
from mfdisco.labeller.cell import build_cell
from mfdisco.labeller.methods import follow_instabilities, run_mean_field
from mfdisco.labeller.settings import settings_hash
from mfdisco.generator.datasets import builtin_prototypes


def test_a_stable_reference_is_kept_and_recorded(lih: Crystal, fast_settings: LabelSettings) -> None:
    result = label(lih, "ccsd_t", fast_settings)
    assert result.status == "done", result.error
    stability = result.details["hf_stability"]
    assert stability["status"] == "stable" and stability["restarts"] == 0
    assert stability["energy_drop_ha"] == 0.0
    assert result.details["e_hf_ev"] == pytest.approx(result.details["e_total_ev"] - result.details["e_ccsd_corr_ev"] - result.details["e_t_ev"])


def test_rocksalt_mgo_at_gamma_is_moved_from_a_saddle_point_to_the_minimum() -> None:
    """Rocksalt MgO at Γ (the default HF bases, 60 Ha) converges from the default guess to a saddle point.

    Following the instability lowers the RHF energy by far more than the SCF tolerance,
    and the analysis of the restarted SCF finds it stable: a minimum.
    """
    mgo = next(r.crystal for r in builtin_prototypes(["Mg", "O"]) if r.source_id == "rocksalt:MgO")
    settings = LabelSettings(ke_cutoff_ha=60.0)  # gth-cc-dzvp for O, gth-dzvp-molopt-sr for Mg; gth-hf-rev
    mf = run_mean_field(build_cell(mgo, Fidelity.CCSD_T, settings), Fidelity.CCSD_T, settings, unrestricted=False).mf
    e_saddle = float(mf.e_tot)
    # a restart that gains less than the threshold ends the search (a flat direction, as in metals)
    first = follow_instabilities(mf, min_energy_drop_ha=10.0)
    assert first["restarts"] == 1 and first["status"].startswith("flat: restart 1 changed the energy by -")
    followed = follow_instabilities(mf)
    assert followed["status"] == "stable"
    drop = first["energy_drop_ha"] + followed["energy_drop_ha"]
    assert drop > 0.05 and float(mf.e_tot) == pytest.approx(e_saddle - drop)
    assert follow_instabilities(mf)["restarts"] == 0  # the minimum stays where it is


def test_stability_checked_ccsd_t_labels_do_not_match_older_ones() -> None:
    """CCSD(T) labels computed on unchecked references get a new settings hash; DFT hashes are unchanged."""
    from mfdisco.labeller import settings as settings_module

    defaults = LabelSettings()
    checked = settings_hash("ccsd_t", defaults)
    dft = settings_hash("pbe", defaults)
    original = settings_module.CCSD_T_REFERENCE
    try:
        settings_module.CCSD_T_REFERENCE = "unchecked"
        assert settings_hash("ccsd_t", defaults) != checked
        assert settings_hash("pbe", defaults) == dft
    finally:
        settings_module.CCSD_T_REFERENCE = original
