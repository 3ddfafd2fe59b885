"""Noise schedules and the wrapped normal on the torus."""

from __future__ import annotations

import math

import pytest
import torch

from mfdisco.generator.diffusion import CosineSchedule, SigmaSchedule, wrapped_normal_log_density, wrapped_normal_score, wrapped_normal_score_norm


@pytest.mark.parametrize("sigma", [0.005, 0.05, 0.2, 0.5])
def test_wrapped_normal_score_is_the_gradient_of_its_log_density(sigma: float) -> None:
    torch.manual_seed(0)
    x = (torch.rand(200, dtype=torch.float64) - 0.5) * 4 * min(sigma, 0.25)
    h = 1e-6 * sigma
    numeric = (wrapped_normal_log_density(x + h, sigma) - wrapped_normal_log_density(x - h, sigma)) / (2 * h)
    assert torch.allclose(wrapped_normal_score(x, sigma), numeric, rtol=1e-5, atol=1e-6 / sigma)


def test_wrapped_normal_is_periodic_normalised_and_gaussian_when_narrow() -> None:
    x = torch.linspace(-0.5, 0.5, 4001, dtype=torch.float64)
    for sigma in (0.05, 0.5):
        density = torch.exp(wrapped_normal_log_density(x, sigma))
        assert torch.trapezoid(density, x).item() == pytest.approx(1.0, abs=1e-6)
        assert torch.allclose(wrapped_normal_score(x + 1.0, sigma), wrapped_normal_score(x, sigma), atol=1e-8)
    narrow = torch.tensor([0.003, -0.01], dtype=torch.float64)
    assert torch.allclose(wrapped_normal_score(narrow, 0.01), -narrow / 0.01**2)
    assert wrapped_normal_score_norm(0.01).item() == pytest.approx(1 / 0.01**2, rel=1e-3)
    assert wrapped_normal_score_norm(0.5).item() < 0.5 / 0.5**2


def test_schedules() -> None:
    cosine = CosineSchedule(steps=1000)
    assert cosine.alphas_cumprod[0] == 1.0 and cosine.alphas_cumprod[-1] < 1e-4
    assert torch.all(cosine.alphas_cumprod[1:] < cosine.alphas_cumprod[:-1]) and cosine.betas.max() <= 0.999
    sigmas = SigmaSchedule(steps=1000).sigmas
    assert sigmas[1].item() == pytest.approx(0.005) and sigmas[-1].item() == pytest.approx(0.5)
    ratios = sigmas[2:] / sigmas[1:-1]
    assert torch.allclose(ratios, torch.full_like(ratios, math.exp(math.log(100) / 999)))
    with pytest.raises(ValueError, match="sigma_min"):
        SigmaSchedule(sigma_min=0.6)
    with pytest.raises(ValueError, match="steps"):
        CosineSchedule(steps=0)
