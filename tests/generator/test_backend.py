"""The diffusion generator backend: fit, sample, condition, checkpoints, registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mfdisco.generator.backend import DiffusionGenerator, Generator, generator_backend
from mfdisco.generator.config import GeneratorConfig
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.generator.datasets.records import CrystalRecord
from mfdisco.generator.sampler import SamplerSettings

TINY = {"hidden": 16, "layers": 1, "fourier_frequencies": 2, "diffusion_steps": 20, "epochs": 2, "batch_size": 16, "sample_steps": 10, "threads": 1}


@pytest.fixture(scope="module")
def records() -> list[CrystalRecord]:
    chosen = [r for r in builtin_prototypes(["Mg", "Ca", "O"])]
    return [CrystalRecord(r.crystal, "test", r.source_id, {"volume_per_atom": r.crystal.volume / r.crystal.num_sites}) for r in chosen]


@pytest.mark.parametrize("task", ["csp", "denovo"])
def test_fit_and_sample(records: list[CrystalRecord], task: str) -> None:
    generator = DiffusionGenerator(GeneratorConfig(**TINY, task=task, properties=["volume_per_atom"]))
    generator.fit(records, progress=False)
    assert len(generator.history) == 2 and all(np.isfinite(generator.history))
    samples = generator.sample(6, condition={"volume_per_atom": 12.0})
    assert 0 < len(samples) <= 6
    compositions = {tuple(sorted(c)) for c in generator.compositions}
    if task == "csp":
        assert all(tuple(sorted(map(int, s.atomic_numbers))) in compositions for s in samples)
    assert {int(z) for s in samples for z in s.atomic_numbers} <= set(generator.elements)
    with pytest.raises(ValueError, match="unknown condition properties"):
        generator.sample(1, condition={"band_gap": 1.0})


def test_checkpoint_round_trip_gives_the_same_samples(records: list[CrystalRecord], tmp_path: Path) -> None:
    generator = DiffusionGenerator(GeneratorConfig(**TINY))
    generator.fit(records, progress=False)
    loaded = DiffusionGenerator.load(generator.save(tmp_path / "g.pt"))
    settings = SamplerSettings(steps=5, seed=3)
    a, b = generator.sample(3, settings=settings), loaded.sample(3, settings=settings)
    assert all(np.array_equal(x.lattice, y.lattice) and np.array_equal(x.frac_coords, y.frac_coords) for x, y in zip(a, b, strict=True))
    assert loaded.training_set_hash == generator.training_set_hash
    largest = max(np.linalg.norm(r.crystal.lattice) for r in records)
    assert loaded.lattice_norm_bound == generator.lattice_norm_bound == pytest.approx(1.25 * largest)
    torch.load(tmp_path / "g.pt", weights_only=True)
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(ValueError, match="junk.pt"):
        DiffusionGenerator.load(tmp_path / "junk.pt")


def test_protocol_registry_and_errors(records: list[CrystalRecord]) -> None:
    backend = generator_backend("diffcsp")
    generator = backend(GeneratorConfig(**TINY, properties=["missing"]))
    assert isinstance(generator, Generator)
    with pytest.raises(RuntimeError, match="not trained"):
        generator.sample(1)
    with pytest.raises(ValueError, match="missing"):
        generator.fit(records, progress=False)
    with pytest.raises(ValueError, match="unknown generator backend"):
        generator_backend("gan")
    with pytest.raises(ValueError, match="at least one"):
        DiffusionGenerator(GeneratorConfig(**TINY)).fit([], progress=False)


def test_warm_start_continues_from_the_trained_weights(records: list[CrystalRecord]) -> None:
    config = GeneratorConfig(**{**TINY, "epochs": 6}, properties=["volume_per_atom"])
    generator = DiffusionGenerator(config)
    generator.fit(records, progress=False)
    trained = {k: v.clone() for k, v in generator.diffusion.state_dict().items()}
    mean = generator.condition_mean.copy()
    cold = DiffusionGenerator(config)
    cold.fit(records, GeneratorConfig(**{**TINY, "epochs": 1}, properties=["volume_per_atom"]), progress=False)
    generator.fit(records[:5], GeneratorConfig(**{**TINY, "epochs": 1}, properties=["volume_per_atom"]), progress=False, warm_start=True)
    # one epoch of fine-tuning moves the weights a little from the trained ones, far less than a fresh start is from them
    moved = sum(float((generator.diffusion.state_dict()[k] - v).abs().sum()) for k, v in trained.items())
    fresh = sum(float((cold.diffusion.state_dict()[k] - v).abs().sum()) for k, v in trained.items())
    assert 0 < moved < 0.5 * fresh
    np.testing.assert_array_equal(generator.condition_mean, mean)  # the condition statistics are kept
