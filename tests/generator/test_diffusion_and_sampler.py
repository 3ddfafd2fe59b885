"""Joint diffusion training and sampling: overfitting one crystal, guidance, fast sampler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Crystal
from mfdisco.generator.denoiser import Denoiser
from mfdisco.generator.diffusion.joint import JointDiffusion, batch_from_crystals
from mfdisco.generator.metrics import csp_match
from mfdisco.generator.sampler import SamplerSettings, network_evaluations, sample_crystals

CSCL = Crystal.from_species(np.eye(3) * 4.1, ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
ELEMENTS = [17, 55]


def test_a_tiny_model_overfit_on_one_crystal_regenerates_it() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = JointDiffusion(Denoiser(num_types=2, hidden=32, layers=2, fourier_frequencies=4), steps=100)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    batch = batch_from_crystals([CSCL] * 16, ELEMENTS)
    generator = torch.Generator().manual_seed(0)
    first = None
    for _ in range(4000):
        loss, _ = model.loss(batch, generator)
        first = float(loss) if first is None else first
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(loss) < first
    samples = sample_crystals(model, [2] * 8, ELEMENTS, SamplerSettings(steps=100, guidance=0.0), types=[[55, 17]] * 8)
    score = csp_match(samples, [CSCL] * 8)
    assert score.match_rate >= 0.75, score


@pytest.fixture
def conditional_model() -> JointDiffusion:
    torch.manual_seed(3)
    return JointDiffusion(Denoiser(num_types=2, condition_dim=3, hidden=16, layers=1, fourier_frequencies=2), steps=20, task="denovo")


def test_guidance_zero_is_the_unconditional_sample(conditional_model: JointDiffusion) -> None:
    settings = SamplerSettings(steps=20, guidance=0.0, seed=5)
    condition = np.ones((3, 3))
    unconditional = sample_crystals(conditional_model, [2, 3, 2], ELEMENTS, settings)
    guided_zero = sample_crystals(conditional_model, [2, 3, 2], ELEMENTS, settings, condition=condition)
    guided = sample_crystals(conditional_model, [2, 3, 2], ELEMENTS, SamplerSettings(steps=20, guidance=0.8, seed=5), condition=condition)
    for a, b in zip(unconditional, guided_zero, strict=True):
        assert np.array_equal(a.lattice, b.lattice) and np.array_equal(a.frac_coords, b.frac_coords)
    assert any(not np.allclose(a.lattice, c.lattice) for a, c in zip(unconditional, guided, strict=True))


def test_the_fast_sampler_needs_at_most_200_network_evaluations(conditional_model: JointDiffusion) -> None:
    assert network_evaluations(SamplerSettings(steps=100, corrector_steps=1, guidance=0.0), conditional=False) == 200
    assert network_evaluations(SamplerSettings(steps=1000, corrector_steps=1), conditional=True) == 4000
    assert network_evaluations(SamplerSettings(steps=50, corrector_steps=1, guidance=0.3), conditional=True) == 200


def test_bad_arguments_are_named(conditional_model: JointDiffusion) -> None:
    csp = JointDiffusion(Denoiser(num_types=2, hidden=8, layers=1, fourier_frequencies=2), steps=10)
    with pytest.raises(ValueError, match="composition"):
        sample_crystals(csp, [2], ELEMENTS, SamplerSettings(steps=5))
    with pytest.raises(ValueError, match="one atomic number per atom"):
        sample_crystals(csp, [2], ELEMENTS, SamplerSettings(steps=5), types=[[55]])
    with pytest.raises(ValueError, match="not in the generator's element table"):
        batch_from_crystals([CSCL], [17])
    with pytest.raises(ValueError, match="task"):
        JointDiffusion(Denoiser(num_types=2), task="other")
    with pytest.raises(ValueError, match="steps >= 1"):
        SamplerSettings(steps=0)


def test_the_predicted_clean_lattice_is_bounded_at_the_first_levels() -> None:
    """ᾱ_T ≈ 2e-9: an imperfect ε̂ gives x̂₀ of thousands of Å unless the sampler bounds it."""
    torch.manual_seed(1)
    model = JointDiffusion(Denoiser(num_types=2, hidden=16, layers=1, fourier_frequencies=2), steps=1000, task="denovo")
    assert float(model.alphas_cumprod[-1]) < 1e-6
    settings = SamplerSettings(steps=10, corrector_steps=0, guidance=0.0, seed=2)
    unbounded = [c for c in sample_crystals(model, [2] * 6, ELEMENTS, settings) if c is not None]
    assert max(np.linalg.norm(c.lattice) for c in unbounded) > 100.0
    model.lattice_norm_bound = 12.0
    bounded = sample_crystals(model, [2] * 6, ELEMENTS, settings)
    norms = [np.linalg.norm(c.lattice) for c in bounded if c is not None]
    assert len(norms) == 6 and max(norms) <= 12.0 + 1e-4
