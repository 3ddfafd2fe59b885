"""The wrapped normal distribution on the unit torus [0, 1)³ of fractional coordinates.

Fractional coordinates are noised by a Gaussian of width σ wrapped onto the torus:

    p_σ(x) = Σ_k N(x + k; 0, σ²),  k ∈ ℤ,

per coordinate (x is the displacement from the clean coordinate, any real number). Its
score, the target of score matching, is

    ∂/∂x log p_σ(x) = Σ_k w_k · (−(x + k)/σ²) / Σ_k w_k,  w_k = exp(−(x + k)²/(2σ²)).

x is first brought into [−1/2, 1/2] (p is periodic), then the image sum is truncated at
|k| ≤ ``images``; with the default 3 images the dropped terms are below
exp(−(2.5)²/(2·0.5²)) ≈ 4e-6 relative even at σ = 0.5, the largest σ used.
"""

from __future__ import annotations

import math

import torch

__all__ = ["wrapped_normal_log_density", "wrapped_normal_score", "wrapped_normal_score_norm", "wrap"]


def wrap(x: torch.Tensor) -> torch.Tensor:
    """``x`` mapped into [0, 1) (fractional coordinates modulo lattice translations)."""
    return x - torch.floor(x)


def _image_exponents(x: torch.Tensor, sigma: torch.Tensor, images: int) -> tuple[torch.Tensor, torch.Tensor]:
    k = torch.arange(-images, images + 1, dtype=x.dtype, device=x.device)  # [2K+1]
    centred = x - torch.round(x)  # the density is periodic: sum the images around [-1/2, 1/2]
    shifted = centred.unsqueeze(-1) + k  # [..., 2K+1]
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).unsqueeze(-1)
    return shifted, -(shifted**2) / (2 * sigma**2)


def wrapped_normal_log_density(x: torch.Tensor, sigma: torch.Tensor | float, images: int = 3) -> torch.Tensor:
    """log p_σ(x) per element of ``x`` (σ broadcast against ``x``)."""
    _, exponents = _image_exponents(x, sigma, images)
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
    return torch.logsumexp(exponents, dim=-1) - torch.log(sigma * math.sqrt(2 * math.pi))


def wrapped_normal_score(x: torch.Tensor, sigma: torch.Tensor | float, images: int = 3) -> torch.Tensor:
    """∂ log p_σ(x)/∂x per element of ``x`` (a softmax-weighted mean over the images)."""
    shifted, exponents = _image_exponents(x, sigma, images)
    weights = torch.softmax(exponents, dim=-1)
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).unsqueeze(-1)
    return (weights * (-shifted / sigma**2)).sum(dim=-1)


def wrapped_normal_score_norm(sigma: torch.Tensor | float, points: int = 2001, images: int = 3) -> torch.Tensor:
    """E_{x ~ p_σ}[score(x)²] by quadrature over one period, the loss normaliser of score matching.

    For small σ it tends to the unwrapped Gaussian's 1/σ²; for large σ it falls below it
    because the torus has a finite extent.
    """
    sigma = torch.as_tensor(sigma, dtype=torch.float64)
    grid = torch.linspace(-0.5, 0.5, points, dtype=torch.float64)  # [P]
    shape = sigma.shape
    s = sigma.reshape(-1, 1)  # [S, 1]
    density = torch.exp(wrapped_normal_log_density(grid.expand(s.shape[0], -1), s, images))  # [S, P]
    score = wrapped_normal_score(grid.expand(s.shape[0], -1), s, images)
    step = 1.0 / (points - 1)
    norm = torch.trapezoid(density * score**2, dx=step, dim=-1) / torch.trapezoid(density, dx=step, dim=-1)
    return norm.reshape(shape)
