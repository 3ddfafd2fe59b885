"""The generator's configuration: denoiser size, diffusion, training and sampling."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GeneratorConfig"]


class GeneratorConfig(BaseModel):
    """DiffCSP-style diffusion generator.

    Attributes:
        hidden, layers, fourier_frequencies: denoiser width, depth and Fourier features K.
        diffusion_steps: T of the lattice/type DDPM and of the coordinate σ ladder.
        sigma_min, sigma_max: coordinate noise range (fractional units).
        task: ``csp`` (composition given) or ``denovo`` (types generated too).
        properties: dataset properties used as the condition vector, in order (e.g.
            ``["heat_ref", "dir_gap"]`` for Perov-5); empty for an unconditional model.
        condition_dropout: share of training crystals seen without their condition.
        epochs, batch_size, learning_rate: Adam training.
        guidance: classifier-free guidance λ at sampling (0 unconditional, 1 conditional).
        sample_steps: reverse steps of the sampler (T for the full predictor-corrector
            sampler; 100 with one corrector step = 200 network evaluations, the fast one).
        corrector_steps, step_lr: Langevin corrector.
        seed, threads: reproducibility and torch threads.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    hidden: int = Field(128, ge=4)
    layers: int = Field(4, ge=1)
    fourier_frequencies: int = Field(16, ge=1)
    diffusion_steps: int = Field(1000, ge=2)
    sigma_min: float = Field(0.005, gt=0)
    sigma_max: float = Field(0.5, gt=0)
    task: Literal["csp", "denovo"] = "csp"
    properties: list[str] = Field(default_factory=list)
    condition_dropout: float = Field(0.1, ge=0, le=1)
    epochs: int = Field(100, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    guidance: float = Field(0.3, ge=0)
    sample_steps: int = Field(1000, ge=1)
    corrector_steps: int = Field(1, ge=0)
    step_lr: float = Field(1e-5, ge=0)
    seed: int = 0
    threads: int = Field(2, ge=1)
