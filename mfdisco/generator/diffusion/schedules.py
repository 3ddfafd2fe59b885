"""Noise schedules: cosine DDPM for the lattice, log-spaced σ for fractional coordinates.

Lattice (DDPM, Nichol & Dhariwal 2021): ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2),
β_t = 1 − ᾱ_t/ᾱ_{t−1} clipped at 0.999; a noised lattice is
L_t = √ᾱ_t L_0 + √(1 − ᾱ_t) ε.

Coordinates (score matching on the torus, as in DiffCSP): σ_t = σ_min (σ_max/σ_min)^{t/T}
for t = 1..T, from 0.005 to 0.5 by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

__all__ = ["CosineSchedule", "SigmaSchedule"]


@dataclass(frozen=True)
class CosineSchedule:
    """Cosine ᾱ schedule of a DDPM with ``steps`` steps (index 0 is the clean sample).

    Attributes:
        steps: number of diffusion steps T.
        offset: the small offset s that keeps β_1 from vanishing.
        alphas_cumprod: [T + 1] ᾱ_t, ᾱ_0 = 1.
        betas: [T + 1] β_t (β_0 = 0).
    """

    steps: int = 1000
    offset: float = 0.008
    alphas_cumprod: torch.Tensor = field(init=False, repr=False)
    betas: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"CosineSchedule needs steps >= 1, got {self.steps}")
        t = torch.arange(self.steps + 1, dtype=torch.float64) / self.steps
        f = torch.cos((t + self.offset) / (1 + self.offset) * math.pi / 2) ** 2
        alphas_cumprod = f / f[0]
        betas = torch.zeros_like(alphas_cumprod)
        betas[1:] = torch.clamp(1 - alphas_cumprod[1:] / alphas_cumprod[:-1], max=0.999)
        alphas_cumprod = torch.cumprod(1 - betas, dim=0)  # consistent with the clipped betas
        object.__setattr__(self, "alphas_cumprod", alphas_cumprod)
        object.__setattr__(self, "betas", betas)


@dataclass(frozen=True)
class SigmaSchedule:
    """Log-spaced σ_t of the wrapped normal noise on fractional coordinates.

    Attributes:
        steps: number of steps T.
        sigma_min, sigma_max: σ_1 and σ_T (fractional units).
        sigmas: [T + 1] σ_t with σ_0 = 0.
    """

    steps: int = 1000
    sigma_min: float = 0.005
    sigma_max: float = 0.5
    sigmas: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.steps < 1 or not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(f"SigmaSchedule needs steps >= 1 and 0 < sigma_min < sigma_max, got {self.steps}, {self.sigma_min}, {self.sigma_max}")
        exponent = torch.arange(self.steps, dtype=torch.float64) / max(1, self.steps - 1)
        sigmas = self.sigma_min * (self.sigma_max / self.sigma_min) ** exponent
        object.__setattr__(self, "sigmas", torch.cat([torch.zeros(1, dtype=torch.float64), sigmas]))
