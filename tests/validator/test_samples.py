"""Samples: validation, rMD17 units, labels and pool files, the training-set hash."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from mfdisco.core import KCAL_PER_MOL_TO_EV, Fidelity, Label
from mfdisco.labeller.pool_file import read_pool_file
from mfdisco.validator.samples import Sample, load_rmd17, samples_from_labels, training_set_hash
from tests.validator.conftest import rocksalt


def test_rmd17_frames_are_converted_to_ev(shared_data: Path) -> None:
    path = shared_data / "rmd17" / "rmd17_ethanol_train_01.npz"
    frames = load_rmd17(path, slice(0, 3))
    with np.load(path) as raw:
        assert frames[1].energy_ev == pytest.approx(raw["energies"][1] * KCAL_PER_MOL_TO_EV)
        assert np.allclose(frames[2].forces_ev_per_a, raw["forces"][2] * 0.0433641, rtol=1e-5)
    assert frames[0].cell is None and frames[0].num_atoms == 9 and frames[0].fidelity == Fidelity.PBE


def test_rmd17_bad_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_rmd17(tmp_path / "nothing.npz")
    np.savez(tmp_path / "other.npz", coords=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="missing"):
        load_rmd17(tmp_path / "other.npz")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"positions": np.full((2, 3), np.nan)}, "positions"),
        ({"cell": np.zeros((3, 3))}, "cell"),
        ({"energy_ev": float("inf")}, "energy_ev"),
        ({"forces_ev_per_a": np.zeros((3, 3))}, "forces"),
        ({"weight": -1.0}, "weight"),
    ],
)
def test_bad_samples_are_refused_with_the_field_named(change: dict, message: str) -> None:
    good = {"atomic_numbers": np.array([12, 8]), "positions": np.zeros((2, 3)) + [[0, 0, 0], [2, 0, 0]], "cell": np.eye(3) * 4, "fidelity": Fidelity.PBE}
    with pytest.raises(ValueError, match=message):
        Sample(**{**good, **change})


def test_samples_from_labels_skip_failures_and_the_hash_tracks_labels() -> None:
    crystal = rocksalt(4.2)
    done = Label(Fidelity.PBE, {}, "h", "done", energy_ev=-10.0)
    failed = Label(Fidelity.CCSD_T, {}, "h", "failed", error="SCF did not converge")
    samples = samples_from_labels([(crystal, done), (crystal, failed)])
    assert len(samples) == 1 and samples[0].energy_ev == -10.0
    changed = samples_from_labels([(crystal, Label(Fidelity.PBE, {}, "h", "done", energy_ev=-10.001))])
    assert training_set_hash(samples) != training_set_hash(changed)
    assert training_set_hash(samples * 2) == training_set_hash(samples * 2)


def test_pool_file_reader_names_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="none.json.gz"):
        read_pool_file(tmp_path / "none.json.gz")
    (tmp_path / "plain.json.gz").write_bytes(b"{}")
    with pytest.raises(ValueError, match="gzip"):
        read_pool_file(tmp_path / "plain.json.gz")
    (tmp_path / "empty.json.gz").write_bytes(gzip.compress(b"{}"))
    with pytest.raises(ValueError, match="'structures' and 'labels'"):
        read_pool_file(tmp_path / "empty.json.gz")


def test_the_committed_pool_file_reads_back() -> None:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "pool" / "pool_labels.json.gz"
    entries = read_pool_file(path)
    assert entries and all(e.label.fidelity in tuple(Fidelity) for e in entries)
    assert all(e.crystal.canonical_hash() for e in entries[:3])


def test_pool_entries_of_one_settings_family() -> None:
    """A pool file holds several presets' labels; readers keep one family (elements at their reference settings)."""
    from mfdisco.active_loop.config import DEFAULT_POOL_FILE
    from mfdisco.labeller.pool_file import entries_at
    from mfdisco.labeller.presets import preset_settings

    from mfdisco.labeller.presets import PRESETS

    entries = read_pool_file(DEFAULT_POOL_FILE)
    families = {name: entries_at(entries, lambda f, name=name: preset_settings(name, f)) for name in PRESETS}
    gamma = families["gamma"]
    assert gamma and all(any(e in family for family in families.values()) for e in entries)  # every label has a preset
    shared = [e for e in families["kpoint-sc4"] if e in families["kpoint"]]
    assert all(e.label.fidelity is not Fidelity.CCSD_T for e in shared)  # kpoint-sc4 shares kpoint's DFT labels only
    assert not any(e in gamma for e in families["kpoint"])
    assert any(e.name == "molecular:O2" for e in gamma)  # the triplet reference is matched at its reference settings
    assert all(e.label.settings.get("kspacing") is None for e in gamma)
    assert entries_at(entries, lambda f: preset_settings("gamma", f, ke_cutoff_ha=77.0)) == []


def test_excluded_pool_members_leave_and_a_pattern_matching_nothing_is_named() -> None:
    from mfdisco.active_loop.config import DEFAULT_POOL_FILE
    from mfdisco.labeller.pool_file import excluding

    entries = read_pool_file(DEFAULT_POOL_FILE)
    kept = excluding(entries, ["cesium-chloride:*", "molecular:O2"])
    assert 0 < len(kept) < len(entries)
    assert not any(e.name.startswith("cesium-chloride:") or e.name == "molecular:O2" for e in kept)
    assert len(entries) - len(kept) == sum(e.name.startswith("cesium-chloride:") or e.name == "molecular:O2" for e in entries)
    assert excluding(entries, []) == entries
    with pytest.raises(ValueError, match="'perovskite:XyO3'"):
        excluding(entries, ["rocksalt:*", "perovskite:XyO3"])
