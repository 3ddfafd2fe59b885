"""Where the network trains: the device setting, its refusal without CUDA, and CPU = GPU.

The GPU tests run where torch sees a CUDA device (they are skipped on the CPU-only CI
machine, with that reason); the CPU-side checks run everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import collate, neighbour_graph
from mfdisco.validator.samples import Sample
from mfdisco.validator.training import predict_samples, train_potential, training_device

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device on this machine")


@pytest.mark.parametrize("name", ["gpu", "cuda:", "CPU", "cuda:x"])
def test_an_unknown_device_is_refused_at_load(name: str) -> None:
    with pytest.raises(ValidationError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        PotentialConfig(device=name)


def test_a_cuda_training_task_asks_ray_for_one_gpu() -> None:
    assert PotentialConfig().gpus == 0
    assert PotentialConfig(device="cuda").gpus == 1 and PotentialConfig(device="cuda:1").gpus == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_is_refused_with_the_reason_where_torch_sees_none(two_fidelity_samples: list[Sample], tiny_config: PotentialConfig) -> None:
    with pytest.raises(ValueError, match="validator device 'cuda': torch sees no CUDA device"):
        train_potential(two_fidelity_samples, tiny_config.model_copy(update={"device": "cuda"}), progress=False)


def test_a_batch_lands_on_the_asked_device(two_fidelity_samples: list[Sample], tiny_config: PotentialConfig) -> None:
    device = training_device("cuda" if torch.cuda.is_available() else "cpu")
    chosen = two_fidelity_samples[:3]
    batch = collate(chosen, [neighbour_graph(s, tiny_config.r_max) for s in chosen], [8, 12, 20], torch.float64, device=device)
    assert {value.device.type for value in batch.values()} == {device.type}


@needs_cuda
def test_cuda_prediction_equals_the_cpu_prediction(two_fidelity_samples: list[Sample], tiny_config: PotentialConfig) -> None:
    config = tiny_config.model_copy(update={"epochs": 2, "dtype": "float64"})
    model = train_potential(two_fidelity_samples, config, progress=False).model
    cpu_energy, cpu_forces = predict_samples(model, two_fidelity_samples, ["pbe", "ccsd_t"], compute_forces=True)
    gpu_energy, gpu_forces = predict_samples(model.to("cuda"), two_fidelity_samples, ["pbe", "ccsd_t"], compute_forces=True)
    np.testing.assert_allclose(gpu_energy, cpu_energy, rtol=0, atol=1e-9)
    for gpu, cpu in zip(gpu_forces, cpu_forces, strict=True):
        np.testing.assert_allclose(gpu, cpu, rtol=0, atol=1e-9)


@needs_cuda
def test_cuda_training_follows_the_cpu_training_and_hands_back_a_cpu_network(
    two_fidelity_samples: list[Sample], tiny_config: PotentialConfig
) -> None:
    """Same seed, float64, stop-gradient masks on: the two trainings differ only by the
    order of floating-point sums (GPU scatter), far below the labels' meV scale."""
    config = tiny_config.model_copy(update={"epochs": 3, "dtype": "float64", "stop_gradient": True})
    train, valid = two_fidelity_samples[:18], two_fidelity_samples[18:]
    on_cpu = train_potential(train, config, valid, progress=False)
    on_gpu = train_potential(train, config.model_copy(update={"device": "cuda"}), valid, progress=False)
    assert on_gpu.model.device.type == "cpu"
    cpu_energy, _ = predict_samples(on_cpu.model, valid, ["pbe", "ccsd_t"])
    gpu_energy, _ = predict_samples(on_gpu.model, valid, ["pbe", "ccsd_t"])
    np.testing.assert_allclose(gpu_energy, cpu_energy, rtol=0, atol=1e-6)
    assert on_gpu.metrics["ccsd_t"]["energy_mae_mev_per_atom"] == pytest.approx(on_cpu.metrics["ccsd_t"]["energy_mae_mev_per_atom"], abs=1e-3)
