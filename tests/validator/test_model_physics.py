"""Symmetry, periodicity and force consistency of the multi-fidelity MACE network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import collate, neighbour_graph
from mfdisco.validator.model import MultiFidelityMACE
from mfdisco.validator.physics_checks import (
    finite_difference_deviation,
    permutation_deviation,
    random_rotation,
    rotation_deviation,
    supercell_deviation,
    translation_deviation,
)
from mfdisco.validator.samples import Sample
from tests.validator.conftest import rocksalt

ELEMENTS = [1, 6, 8, 12]


@pytest.fixture
def model(tiny_config: PotentialConfig) -> MultiFidelityMACE:
    torch.manual_seed(3)
    e0 = np.arange(16, dtype=float).reshape(4, 4)
    network = MultiFidelityMACE(tiny_config, ELEMENTS, e0, np.full(4, 0.7), np.full(4, 0.1), 8.0, ["pbe", "scan", "hse06", "ccsd_t"])
    with torch.no_grad():  # make the readouts clearly non-zero so that every check has something to compare
        for parameter in network.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return network.eval()


def energy_and_forces_of(model: MultiFidelityMACE, fidelity: Fidelity = Fidelity.CCSD_T):
    def evaluate(sample: Sample) -> tuple[float, np.ndarray]:
        graph = neighbour_graph(sample, model.config.r_max)
        out = model(collate([sample], [graph], model.elements, model.dtype, fidelities=[fidelity]))
        return float(out["energy"].detach()[0]), out["forces"].detach().numpy()

    return evaluate


@pytest.fixture
def distorted_crystal(rng: np.random.Generator) -> Sample:
    """A 4-atom Mg2O2 cell with displaced atoms and a sheared lattice (no symmetry to hide errors)."""
    base = rocksalt(4.2)
    lattice = base.lattice @ (np.eye(3) + 0.03 * rng.normal(size=(3, 3)))
    cart = np.array([[0, 0, 0], [2.1, 0.1, 0.0], [0.1, 2.0, 0.2], [1.9, 2.2, 0.1]]) + 0.05 * rng.normal(size=(4, 3))
    return Sample(np.array([12, 8, 12, 8]), cart @ np.eye(3), lattice, Fidelity.PBE)


@pytest.fixture
def molecule(rng: np.random.Generator) -> Sample:
    positions = np.array([[0.0, 0.0, 0.0], [1.16, 0.0, 0.0], [-1.16, 0.0, 0.1], [0.3, 1.0, 0.2]]) + 0.02 * rng.normal(size=(4, 3))
    return Sample(np.array([6, 8, 8, 1]), positions, None, Fidelity.PBE)


@pytest.mark.parametrize("which", ["distorted_crystal", "molecule"])
def test_energy_invariant_and_forces_equivariant_under_rotation(model, which, request, rng) -> None:  # noqa: ANN001
    sample = request.getfixturevalue(which)
    d_energy, d_forces = rotation_deviation(energy_and_forces_of(model), sample, random_rotation(rng))
    assert d_energy < 1e-9 and d_forces < 1e-9


@pytest.mark.parametrize("which", ["distorted_crystal", "molecule"])
def test_translation_and_permutation(model, which, request, rng) -> None:  # noqa: ANN001
    sample = request.getfixturevalue(which)
    fn = energy_and_forces_of(model)
    assert max(translation_deviation(fn, sample, rng.normal(size=3) * 3.0)) < 1e-9
    assert max(permutation_deviation(fn, sample, rng.permutation(sample.num_atoms))) < 1e-9


def test_periodic_images_supercell_energy_is_twice_the_cell(model, distorted_crystal) -> None:  # noqa: ANN001
    d_energy, d_forces = supercell_deviation(energy_and_forces_of(model), distorted_crystal)
    assert d_energy < 1e-8 and d_forces < 1e-9


def test_forces_equal_central_finite_differences(model, distorted_crystal) -> None:  # noqa: ANN001
    fn = energy_and_forces_of(model)
    assert np.abs(fn(distorted_crystal)[1]).max() > 1e-3  # the check compares something
    assert finite_difference_deviation(fn, distorted_crystal, step=1e-4) < 1e-6


def test_checks_catch_a_broken_potential(distorted_crystal, rng) -> None:  # noqa: ANN001
    """The helpers report large deviations for an energy that depends on the absolute frame."""

    def frame_dependent(sample: Sample) -> tuple[float, np.ndarray]:
        return float(sample.positions[:, 0].sum()), np.tile([-1.0, 0.0, 0.0], (sample.num_atoms, 1))

    assert rotation_deviation(frame_dependent, distorted_crystal, random_rotation(rng))[0] > 1e-3
    assert translation_deviation(frame_dependent, distorted_crystal, np.array([1.0, 0.0, 0.0]))[0] > 1e-3


def test_fidelity_embedding_and_head_change_the_prediction(model, distorted_crystal) -> None:  # noqa: ANN001
    energies = [energy_and_forces_of(model, f)(distorted_crystal)[0] for f in Fidelity]
    assert len({round(e, 6) for e in energies}) == 4


@pytest.fixture
def delta_model(model: MultiFidelityMACE) -> MultiFidelityMACE:
    """``model``'s weights read with Δ-learning: every head but PBE's is a correction to PBE."""
    network = MultiFidelityMACE(model.config.model_copy(update={"delta_to_pbe": True}), **model.init_arguments)
    network.load_state_dict(model.state_dict())
    return network.eval()


def test_delta_heads_add_their_correction_to_the_pbe_prediction(model, delta_model, distorted_crystal) -> None:  # noqa: ANN001
    plain_pbe = energy_and_forces_of(model, Fidelity.PBE)(distorted_crystal)
    assert energy_and_forces_of(delta_model, Fidelity.PBE)(distorted_crystal)[0] == pytest.approx(plain_pbe[0], abs=1e-12)
    for fidelity in (Fidelity.SCAN, Fidelity.CCSD_T):
        energy, forces = energy_and_forces_of(delta_model, fidelity)(distorted_crystal)
        correction = energy_and_forces_of(model, fidelity)(distorted_crystal)
        assert energy == pytest.approx(plain_pbe[0] + correction[0], abs=1e-10)
        np.testing.assert_allclose(forces, plain_pbe[1] + correction[1], atol=1e-10)


def test_delta_model_in_a_batch_mixing_heads_and_sizes(model, delta_model, distorted_crystal, molecule) -> None:  # noqa: ANN001
    """Each graph of a mixed batch gets the prediction it gets alone: the PBE pass over the corrected graphs is a renumbered sub-batch."""
    samples = [molecule, distorted_crystal, molecule, distorted_crystal]
    heads = [Fidelity.CCSD_T, Fidelity.PBE, Fidelity.PBE, Fidelity.SCAN]
    graphs = [neighbour_graph(s, delta_model.config.r_max) for s in samples]
    batch = collate(samples, graphs, delta_model.elements, delta_model.dtype, fidelities=heads)
    mixed = delta_model(batch)
    ends = np.cumsum([0] + [s.num_atoms for s in samples])
    for g, (sample, head) in enumerate(zip(samples, heads, strict=True)):
        alone = energy_and_forces_of(delta_model, head)(sample)
        assert float(mixed["energy"].detach()[g]) == pytest.approx(alone[0], abs=1e-10)
        np.testing.assert_allclose(mixed["forces"].detach().numpy()[ends[g] : ends[g + 1]], alone[1], atol=1e-10)
    # Training mode skips the PBE forces of corrected graphs without force labels (none here), not their energies.
    trained = delta_model(batch, training=True)
    np.testing.assert_allclose(trained["energy"].detach().numpy(), mixed["energy"].detach().numpy(), atol=1e-10)
    # Stress: the corrected cell's is the PBE head's plus its own head's.
    pair = collate([distorted_crystal] * 2, graphs[1::2], delta_model.elements, delta_model.dtype, fidelities=[Fidelity.PBE, Fidelity.CCSD_T])
    delta_stress = delta_model(pair, compute_stress=True)["stress"].detach().numpy()
    plain_stress = model(pair, compute_stress=True)["stress"].detach().numpy()
    assert np.abs(plain_stress).max() > 1e-4
    np.testing.assert_allclose(delta_stress[0], plain_stress[0], atol=1e-12)
    np.testing.assert_allclose(delta_stress[1], plain_stress[0] + plain_stress[1], atol=1e-10)


def test_delta_model_keeps_the_physics(delta_model, distorted_crystal, rng) -> None:  # noqa: ANN001
    fn = energy_and_forces_of(delta_model)
    d_energy, d_forces = rotation_deviation(fn, distorted_crystal, random_rotation(rng))
    assert d_energy < 1e-9 and d_forces < 1e-9
    assert finite_difference_deviation(fn, distorted_crystal, step=1e-4) < 1e-6
    assert supercell_deviation(fn, distorted_crystal)[0] < 1e-8
