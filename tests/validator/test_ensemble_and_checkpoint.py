"""Ensembles, checkpoints, the models table, the ASE calculator and relaxation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Fidelity
from mfdisco.db import Model, make_engine, read_session, upgrade
from mfdisco.validator.calculator import MaceEnsembleCalculator
from mfdisco.validator.checkpoint import load_ensemble, record_model, save_ensemble
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.ensemble import MaceEnsemble, bootstrap_resample, train_ensemble
from mfdisco.validator.potential import MacePotential, Potential, potential_backend
from mfdisco.validator.relax import relax
from mfdisco.validator.samples import Sample
from tests.validator.conftest import rocksalt


@pytest.fixture(scope="module")
def ensemble() -> MaceEnsemble:
    from tests.validator.conftest import synthetic_energy

    config = PotentialConfig(
        r_max=4.0, num_channels=8, max_l=1, max_ell=2, correlation=2, num_interactions=2, num_bessel=4,
        radial_mlp=[8, 8], mlp_irreps_per_head=4, fidelity_embedding_dim=4, epochs=30, batch_size=4,
        ensemble_size=2, threads=1, seed=7, learning_rate=1e-2, bootstrap_min_labels=1,  # resample even these few labels
    )
    samples = []
    for cation, a0 in (("Mg", 4.21), ("Ca", 4.81)):
        for a in a0 * np.linspace(0.95, 1.05, 7):
            crystal = rocksalt(a, cation)
            samples += [Sample.from_crystal(crystal, f, synthetic_energy(crystal, f)) for f in (Fidelity.PBE, Fidelity.CCSD_T)]
    return train_ensemble(samples[::2] + samples[1::2][:10], config, samples[1::2][10:], recalibration="scalar", progress=False)


def test_ensemble_predicts_mean_and_spread_per_fidelity(ensemble: MaceEnsemble) -> None:
    crystals = [rocksalt(4.2), rocksalt(4.8, "Ca")]
    prediction = ensemble.predict(crystals, ["pbe", "ccsd_t"])
    assert prediction.energy_per_atom.shape == (2, 2) and prediction.members.shape == (2, 2, 2)
    assert np.all(prediction.std("ccsd_t") > 0)
    raw_std = prediction.members.std(axis=0, ddof=1)
    factor = ensemble.recalibration["ccsd_t"].factor
    assert prediction.std("ccsd_t") == pytest.approx(raw_std[:, 1] * factor)
    assert "calibration_ccsd_t" in ensemble.metrics and "valid_ccsd_t" in ensemble.metrics
    with pytest.raises(ValueError, match="scan"):
        ensemble.predict(crystals, ["scan"])


def test_formation_energy_subtracts_the_references(ensemble: MaceEnsemble) -> None:
    crystal = rocksalt(4.2)
    references = {"pbe": {"Mg": -1.0, "O": -3.0}, "ccsd_t": {"Mg": -2.0, "O": -5.0}}
    fidelities, formation = ensemble.formation_energy_per_atom([crystal], references)
    total = ensemble.predict([crystal]).energy_per_atom
    assert formation[0, fidelities.index(Fidelity.PBE)] == pytest.approx(total[0, 0] + 2.0)
    assert formation[0, fidelities.index(Fidelity.CCSD_T)] == pytest.approx(total[0, 1] + 3.5)
    with pytest.raises(KeyError, match="Mg"):
        ensemble.formation_energy_per_atom([crystal], {"pbe": {"O": 0.0}, "ccsd_t": {"O": 0.0}})


def test_bootstrap_keeps_each_fidelity_count(rng: np.random.Generator) -> None:
    samples = [Sample.from_crystal(rocksalt(4.0 + 0.01 * i), f, -1.0) for i in range(5) for f in (Fidelity.PBE, Fidelity.PBE, Fidelity.CCSD_T)]
    resampled = bootstrap_resample(samples, rng)
    assert sum(s.fidelity == Fidelity.PBE for s in resampled) == 10 and sum(s.fidelity == Fidelity.CCSD_T for s in resampled) == 5
    assert len({id(s) for s in resampled}) < len(resampled)


def test_bootstrap_keeps_a_fidelity_with_fewer_labels_than_the_minimum_whole(rng: np.random.Generator) -> None:
    pbe = [Sample.from_crystal(rocksalt(4.0 + 0.01 * i), Fidelity.PBE, -1.0) for i in range(60)]
    ccsd_t = [Sample.from_crystal(rocksalt(4.0 + 0.01 * i), Fidelity.CCSD_T, -2.0) for i in range(9)]
    for _ in range(5):
        resampled = bootstrap_resample(pbe + ccsd_t, rng, min_labels=50)
        kept = [s for s in resampled if s.fidelity == Fidelity.CCSD_T]
        assert sorted(map(id, kept)) == sorted(map(id, ccsd_t))  # every CCSD(T) label exactly once
        drawn = [s for s in resampled if s.fidelity == Fidelity.PBE]
        assert len(drawn) == 60 and len({id(s) for s in drawn}) < 60  # PBE is still resampled


def test_checkpoint_round_trips_exactly_and_is_recorded(ensemble: MaceEnsemble, tmp_path) -> None:  # noqa: ANN001
    path = save_ensemble(ensemble, tmp_path / "validator.pt")
    loaded = load_ensemble(path)
    crystals = [rocksalt(4.25), rocksalt(4.7, "Ca")]
    before, after = ensemble.predict(crystals), loaded.predict(crystals)
    assert np.array_equal(before.members, after.members) and np.array_equal(before.energy_per_atom_std, after.energy_per_atom_std)
    assert loaded.config == ensemble.config and loaded.training_set_hash == ensemble.training_set_hash
    torch.load(path, weights_only=True)  # safe loading path
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    upgrade(engine)
    first, second = record_model(engine, loaded, path), record_model(engine, loaded, path)
    with read_session(engine) as session:
        rows = {row.id: row for row in session.query(Model).all()}
    assert rows[first].version == 1 and rows[second].version == 2 and rows[first].training_set_hash == ensemble.training_set_hash
    assert rows[first].config["ensemble_size"] == 2 and rows[first].kind == "validator"


def test_loading_a_bad_checkpoint_names_the_problem(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_ensemble(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt"):
        load_ensemble(tmp_path / "junk.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an mfdisco validator checkpoint"):
        load_ensemble(tmp_path / "other.pt")


def test_ase_calculator_matches_predict_and_relaxation_lowers_the_energy(ensemble: MaceEnsemble) -> None:
    crystal = rocksalt(4.45)
    atoms = crystal.to_ase()
    atoms.calc = MaceEnsembleCalculator(ensemble, "pbe")
    assert atoms.get_potential_energy() / 2 == pytest.approx(ensemble.predict([crystal], ["pbe"]).mean("pbe")[0], abs=1e-10)
    assert atoms.get_stress().shape == (6,)
    result = relax(crystal, ensemble, "pbe", fmax=1e-4, max_steps=100)
    assert result.steps > 0
    assert result.energy_per_atom_ev < ensemble.predict([crystal], ["pbe"]).mean("pbe")[0]
    assert abs(result.crystal.volume - crystal.volume) > 1e-3
    with pytest.raises(ValueError, match="hse06"):
        MaceEnsembleCalculator(ensemble, "hse06")


def test_registry_gives_the_mace_backend_behind_the_protocol(ensemble: MaceEnsemble, tmp_path) -> None:  # noqa: ANN001
    backend = potential_backend("mace")
    potential = backend(ensemble.config)
    assert isinstance(potential, Potential)
    with pytest.raises(RuntimeError, match="not trained"):
        potential.predict([rocksalt(4.2)])
    potential.ensemble = ensemble
    reloaded = MacePotential.load(potential.save(tmp_path / "p.pt"))
    assert np.array_equal(reloaded.predict([rocksalt(4.2)]).energy_per_atom, potential.predict([rocksalt(4.2)]).energy_per_atom)
    with pytest.raises(ValueError, match="unknown potential backend 'nequip'"):
        potential_backend("nequip")


def test_bootstrap_members_share_the_reference_energies_of_the_whole_training_set(ensemble: MaceEnsemble) -> None:
    """E0, scale and shift come from the full training set, not from each member's resample.

    A resample that missed every label of an element at a fidelity would give it E0 = 0 there.
    """
    first = ensemble.members[0].init_arguments
    for member in ensemble.members[1:]:
        for key in ("atomic_energies", "scale", "shift"):
            assert member.init_arguments[key] == first[key], key
