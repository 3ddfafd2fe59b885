"""Sampling crystals from a trained :class:`JointDiffusion`: predictor-corrector and fast samplers.

Reverse steps from level t to an earlier level s (s = t − 1 for the full sampler, a strided
subset of levels for the fast one):

* lattice and types (DDPM, η = 1): x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t,
  σ² = (1 − ᾱ_s)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_s), x_s = √ᾱ_s x̂₀ + √(1 − ᾱ_s − σ²) ε̂ + σ z;
  x̂₀ is bounded before it is used: the lattice to the Frobenius norm
  ``diffusion.lattice_norm_bound`` (Å; rescaled, so the bound is rotation invariant) and the
  one-hot types to [−1, 1]. At the first levels of the cosine schedule ᾱ_t is as small
  as 2e-9, so 1/√ᾱ_t amplifies the network's error in ε̂ by up to 2·10⁴; without the bound
  a strided sampler's first step leaves lattices of hundreds of Å and type vectors far
  outside what the network was trained on (the usual x̂₀ clipping of DDPM samplers);
* coordinates (variance exploding on the torus), ancestral predictor:
  F_s = F_t + (σ_t² − σ_s²) ŝ + √((σ_t² − σ_s²) σ_s²/σ_t²) z, mod 1,
  with ŝ the network output times √E[s²] at σ_t;
* Langevin corrector on the coordinates before each predictor step:
  F ← F + γ ŝ + √(2γ) z, γ = ``step_lr`` (σ_t/σ_min)².

Classifier-free guidance mixes the conditional and unconditional outputs as
ε = (1 − λ) ε_uncond + λ ε_cond: λ = 0 is the unconditional model, λ = 1 the conditional one.
Every random draw comes from one seeded generator, so a seed fixes the samples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from mfdisco.core import Crystal, InvalidCrystalError
from mfdisco.generator.diffusion.joint import JointDiffusion

__all__ = ["SamplerSettings", "sample_crystals", "network_evaluations"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample.

    Attributes:
        steps: reverse steps (T for the full predictor-corrector sampler; fewer for the
            fast sampler, which visits a strided subset of the levels).
        corrector_steps: Langevin corrector steps before each predictor step.
        step_lr: corrector step scale.
        guidance: classifier-free guidance λ.
        seed: random seed.
    """

    steps: int = 1000
    corrector_steps: int = 1
    step_lr: float = 1e-5
    guidance: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.corrector_steps < 0 or self.step_lr < 0:
            raise ValueError(f"sampler needs steps >= 1, corrector_steps >= 0, step_lr >= 0; got {self}")


def network_evaluations(settings: SamplerSettings, conditional: bool) -> int:
    """Denoiser evaluations per structure: (1 + corrector steps) per level, twice with guidance."""
    per_level = 1 + settings.corrector_steps
    return settings.steps * per_level * (2 if conditional and 0 < settings.guidance else 1)


def _levels(total: int, steps: int) -> list[int]:
    levels = np.unique(np.round(np.linspace(total, 1, min(steps, total))).astype(int))[::-1]
    return [int(level) for level in levels] + [0]


@torch.no_grad()
def sample_crystals(
    diffusion: JointDiffusion,
    num_atoms: Sequence[int],
    elements: Sequence[int],
    settings: SamplerSettings = SamplerSettings(),
    types: Sequence[Sequence[int]] | None = None,
    condition: np.ndarray | None = None,
    progress: bool = False,
) -> list[Crystal | None]:
    """Sample one crystal per entry of ``num_atoms`` (None where the sample is degenerate: a
    singular or non-finite lattice).

    Args:
        diffusion: the trained model.
        num_atoms: atoms of each crystal.
        elements: the element table (atomic numbers) the model was trained on.
        settings: sampler settings.
        types: for crystal structure prediction, the atomic numbers of each crystal (the
            composition stays fixed); None for de novo generation.
        condition: [n_crystals, d] condition vectors, or None for unconditional samples.
        progress: show a progress bar.

    Raises:
        ValueError: inconsistent arguments (named).
    """
    if types is None and diffusion.task == "csp":
        raise ValueError("a crystal-structure-prediction model needs the composition (types) of each crystal")
    if types is not None and [len(t) for t in types] != list(num_atoms):
        raise ValueError("types must give one atomic number per atom of each crystal")
    generator = torch.Generator().manual_seed(settings.seed)
    model = diffusion.denoiser
    dtype = next(model.parameters()).dtype
    counts = torch.tensor(list(num_atoms), dtype=torch.long)
    n_crystals, n_atoms = len(counts), int(counts.sum())
    index = {int(z): i for i, z in enumerate(elements)}
    fixed_types = None
    if types is not None:
        fixed_types = diffusion.type_vectors(torch.tensor([index[int(z)] for t in types for z in t]), dtype)
    cond = None if condition is None else torch.as_tensor(condition, dtype=dtype)
    lattice = torch.randn((n_crystals, 3, 3), generator=generator, dtype=dtype)
    coords = torch.rand((n_atoms, 3), generator=generator, dtype=dtype)
    type_state = fixed_types if fixed_types is not None else torch.randn((n_atoms, model.num_types), generator=generator, dtype=dtype)

    def predict(level: int, coords: torch.Tensor, lattice: torch.Tensor, type_state: torch.Tensor) -> dict[str, torch.Tensor]:
        t = torch.full((n_crystals,), level / diffusion.steps, dtype=dtype)
        unconditional = model(type_state, coords, lattice, counts, t, None)
        if cond is None or settings.guidance == 0:
            return unconditional
        conditional = model(type_state, coords, lattice, counts, t, cond)
        return {k: (1 - settings.guidance) * unconditional[k] + settings.guidance * conditional[k] for k in unconditional}

    norm_bound = diffusion.lattice_norm_bound

    def bound_lattice(x0: torch.Tensor) -> torch.Tensor:  # [n_crystals, 3, 3]
        if norm_bound is None:
            return x0
        norms = torch.linalg.matrix_norm(x0, keepdim=True)
        return x0 * torch.clamp(norm_bound / norms.clamp_min(1e-12), max=1.0)

    levels = _levels(diffusion.steps, settings.steps)
    sigma_min = float(diffusion.sigmas[1])
    for level, previous in tqdm(list(zip(levels[:-1], levels[1:])), desc="sampling", disable=not progress, leave=False):
        sigma_t, sigma_s = float(diffusion.sigmas[level]), float(diffusion.sigmas[previous])
        score_scale = float(diffusion.score_norms[level]) ** 0.5
        for _ in range(settings.corrector_steps):
            score = predict(level, coords, lattice, type_state)["coords"] * score_scale
            gamma = settings.step_lr * (sigma_t / sigma_min) ** 2
            noise = torch.randn(coords.shape, generator=generator, dtype=dtype)
            coords = torch.remainder(coords + gamma * score + (2 * gamma) ** 0.5 * noise, 1.0)
        out = predict(level, coords, lattice, type_state)
        lattice = _ddpm_step(diffusion, lattice, out["lattice"], level, previous, generator, bound_lattice)
        if fixed_types is None:
            type_state = _ddpm_step(diffusion, type_state, out["types"], level, previous, generator, _bound_types)
        variance = sigma_t**2 - sigma_s**2
        noise = torch.randn(coords.shape, generator=generator, dtype=dtype)
        coords = torch.remainder(coords + variance * out["coords"] * score_scale + (variance * sigma_s**2 / sigma_t**2) ** 0.5 * noise, 1.0)
    final_types = type_state.argmax(dim=-1).tolist()
    crystals: list[Crystal | None] = []
    start = 0
    for i, n in enumerate(counts.tolist()):
        numbers = [int(elements[k]) for k in final_types[start : start + n]]
        try:
            crystals.append(Crystal(lattice[i].double().numpy(), coords[start : start + n].double().numpy(), numbers))
        except InvalidCrystalError as error:  # a degenerate lattice: counted as a failed sample
            logger.info("sample %d is not a crystal: %s", i, error)
            crystals.append(None)
        start += n
    return crystals


def _bound_types(x0: torch.Tensor) -> torch.Tensor:  # [n_atoms, n_types], one-hot in [0, 1]
    return x0.clamp(-1.0, 1.0)


def _ddpm_step(
    diffusion: JointDiffusion, x: torch.Tensor, epsilon: torch.Tensor, level: int, previous: int, generator: torch.Generator,
    bound: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """One ancestral DDPM step from ``level`` to ``previous`` with x̂₀ passed through ``bound``.

    ε̂ is recomputed from the bounded x̂₀, so the step stays a DDPM posterior sample for
    that x̂₀ (equal to the plain step wherever the bound does not act).
    """
    alpha_t, alpha_s = float(diffusion.alphas_cumprod[level]), float(diffusion.alphas_cumprod[previous])
    raw_x0 = (x - (1 - alpha_t) ** 0.5 * epsilon) / alpha_t**0.5
    x0 = bound(raw_x0)
    if not torch.equal(x0, raw_x0):
        epsilon = (x - alpha_t**0.5 * x0) / (1 - alpha_t) ** 0.5
    variance = (1 - alpha_s) / (1 - alpha_t) * (1 - alpha_t / alpha_s)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if previous > 0 else torch.zeros_like(x)
    return alpha_s**0.5 * x0 + max(1 - alpha_s - variance, 0.0) ** 0.5 * epsilon + variance**0.5 * noise
