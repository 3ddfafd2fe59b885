"""Reference energies, the multi-fidelity loss, stop-gradient heads and training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import collate, neighbour_graph
from mfdisco.validator.samples import Sample
from mfdisco.validator.training import build_model, evaluate, fit_reference_energies, predict_samples, train_potential, training_step


def test_reference_energies_recover_per_element_offsets_per_fidelity(two_fidelity_samples: list[Sample]) -> None:
    exact = []
    for s in two_fidelity_samples:  # labels without the volume term: E0 alone must explain them
        offsets = {12: -50.0, 20: -36.0, 8: -430.0}
        shift = 0.0 if s.fidelity == Fidelity.PBE else 3.0
        exact.append(Sample(s.atomic_numbers, s.positions, s.cell, s.fidelity, sum(offsets[int(z)] + shift for z in s.atomic_numbers)))
    e0, scale, shift, trained = fit_reference_energies(exact, [8, 12, 20])
    assert trained == ["pbe", "ccsd_t"]
    # Only sums over a formula unit are fixed by rocksalt compounds: E0(Mg) + E0(O) and E0(Ca) + E0(O).
    assert e0[0, 0] + e0[0, 1] == pytest.approx(-480.0) and e0[0, 0] + e0[0, 2] == pytest.approx(-466.0)
    assert e0[3, 0] + e0[3, 1] == pytest.approx(-474.0)
    assert np.abs(shift).max() < 1e-9 and np.all(e0[1:3] == 0)


@pytest.mark.parametrize("delta_to_pbe", [False, True])
def test_training_reduces_the_error_of_both_heads(two_fidelity_samples: list[Sample], tiny_config: PotentialConfig, delta_to_pbe: bool) -> None:
    config = tiny_config.model_copy(update={"epochs": 150, "learning_rate": 1e-2, "delta_to_pbe": delta_to_pbe})
    held_out = [i for i in range(len(two_fidelity_samples)) if (i // 2) % 4 == 3]  # both labels of every 4th structure
    train = [s for i, s in enumerate(two_fidelity_samples) if i not in held_out]
    valid = [two_fidelity_samples[i] for i in held_out]
    untrained = build_model(train, [neighbour_graph(s, config.r_max) for s in train], config, [8, 12, 20])
    before = evaluate(untrained, valid)
    result = train_potential(train, config, valid, progress=False)
    after = result.metrics
    for fidelity in ("pbe", "ccsd_t"):
        assert after[fidelity]["energy_mae_mev_per_atom"] < 0.5 * before[fidelity]["energy_mae_mev_per_atom"]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    elapsed = [record["elapsed_s"] for record in result.history]
    assert elapsed[0] > 0 and all(later > earlier for earlier, later in zip(elapsed, elapsed[1:]))


def test_prediction_refuses_an_untrained_fidelity(two_fidelity_samples: list[Sample], tiny_config: PotentialConfig) -> None:
    pbe_only = [s for s in two_fidelity_samples if s.fidelity == Fidelity.PBE]
    result = train_potential(pbe_only, tiny_config.model_copy(update={"epochs": 1}), progress=False)
    with pytest.raises(ValueError, match="not trained at .*hse06"):
        predict_samples(result.model, pbe_only[:1], ["hse06"])
    with pytest.raises(ValueError, match="no labelled training sample"):
        train_potential([Sample(s.atomic_numbers, s.positions, s.cell, s.fidelity) for s in pbe_only], tiny_config, progress=False)


def _own_parameters(model, fidelity: str) -> list[torch.Tensor]:  # noqa: ANN001
    params = dict(model.named_parameters())
    return [params[name].detach()[mask].clone() for name, mask in model.fidelity_parameters()[fidelity].items()]


@pytest.mark.parametrize("stop_gradient", [True, False])
def test_stop_gradient_keeps_the_ccsd_t_head_still_during_a_pbe_step(
    two_fidelity_samples: list[Sample], tiny_config: PotentialConfig, stop_gradient: bool
) -> None:
    config = tiny_config.model_copy(update={"stop_gradient": stop_gradient})
    graphs = [neighbour_graph(s, config.r_max) for s in two_fidelity_samples]
    torch.manual_seed(0)
    model = build_model(two_fidelity_samples, graphs, config, [8, 12, 20])
    owned = model.fidelity_parameters() if stop_gradient else {}
    assert {"pbe", "ccsd_t"} <= {f for f, masks in model.fidelity_parameters().items() if masks}
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    high = [i for i, s in enumerate(two_fidelity_samples) if s.fidelity == Fidelity.CCSD_T][:4]
    low = [i for i, s in enumerate(two_fidelity_samples) if s.fidelity == Fidelity.PBE][:4]

    def batch(indices: list[int]) -> dict:
        return collate([two_fidelity_samples[i] for i in indices], [graphs[i] for i in indices], model.elements, model.dtype)

    training_step(model, optimiser, batch(high), config, owned)  # gives the optimiser momentum on the CCSD(T) head
    ccsd_t_before, pbe_before = _own_parameters(model, "ccsd_t"), _own_parameters(model, "pbe")
    training_step(model, optimiser, batch(low), config, owned)  # a PBE-only step
    ccsd_t_after, pbe_after = _own_parameters(model, "ccsd_t"), _own_parameters(model, "pbe")
    ccsd_t_moved = any(not torch.equal(a, b) for a, b in zip(ccsd_t_before, ccsd_t_after, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(pbe_before, pbe_after, strict=True))
    # Without stop-gradient Adam's momentum from the CCSD(T) step still moves that head.
    assert ccsd_t_moved is not stop_gradient


@pytest.mark.parametrize(("schedule", "stages"), [("joint", {0}), ("transfer", {0, 1}), ("progressive", {0, 3})])
def test_schedules_run_the_stages_that_have_data(
    two_fidelity_samples: list[Sample], tiny_config: PotentialConfig, schedule: str, stages: set[int]
) -> None:
    """PBE and CCSD(T) labels only: progressive skips its SCAN and HSE06 stages."""
    result = train_potential(two_fidelity_samples, tiny_config.model_copy(update={"schedule": schedule}), progress=False)
    assert result.model.trained_fidelities == ["pbe", "ccsd_t"]
    assert {r["stage"] for r in result.history} == stages


def test_delta_reference_energies_fit_the_difference_to_pbe(two_fidelity_samples: list[Sample]) -> None:
    """Δ-learning: the CCSD(T) head's E0 are per-element offsets of E_ccsd_t − E_pbe over paired structures."""
    pbe_offsets, extra = {12: -50.0, 20: -36.0, 8: -430.0}, {12: 4.0, 20: 1.5, 8: -2.0}
    exact = []
    for s in two_fidelity_samples:
        offsets = {z: pbe_offsets[z] + (extra[z] if s.fidelity == Fidelity.CCSD_T else 0.0) for z in pbe_offsets}
        exact.append(Sample(s.atomic_numbers, s.positions, s.cell, s.fidelity, sum(offsets[int(z)] for z in s.atomic_numbers), key=s.key))
    e0, _, shift, trained = fit_reference_energies(exact, [8, 12, 20], delta_to_pbe=True)
    assert trained == ["pbe", "ccsd_t"]
    assert e0[0, 0] + e0[0, 1] == pytest.approx(-480.0)  # PBE as before
    assert e0[3, 0] + e0[3, 1] == pytest.approx(2.0) and e0[3, 0] + e0[3, 2] == pytest.approx(-0.5)  # ΔE0(O) + ΔE0(Mg or Ca)
    assert abs(shift[3]) < 1e-9
    with pytest.raises(ValueError, match="no sample is labelled at PBE"):
        fit_reference_energies([s for s in exact if s.fidelity == Fidelity.CCSD_T], [8, 12, 20], delta_to_pbe=True)

