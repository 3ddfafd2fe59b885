"""Joint diffusion of lattice, fractional coordinates and atom types, and its training loss.

For a crystal (L₀, F₀, A₀) and a step t ∈ {1..T} drawn uniformly:

* lattice, DDPM with the cosine schedule and ε-prediction:
  L_t = √ᾱ_t L₀ + √(1 − ᾱ_t) ε_L,  loss ‖ε̂_L − ε_L‖²;
* fractional coordinates, score matching with the wrapped normal (variance exploding):
  F_t = (F₀ + σ_t z) mod 1,  target s = ∇ log p_σt(σ_t z) / √E[s²]  (normalised so every σ
  weighs alike, as in DiffCSP), loss ‖ŝ − s‖²;
* atom types (de novo task only), continuous one-hot DDPM with ε-prediction:
  A_t = √ᾱ_t onehot(A₀) + √(1 − ᾱ_t) ε_A, loss ‖ε̂_A − ε_A‖². The crystal structure
  prediction task keeps the composition given and clean.

The condition vector is replaced by the learned null embedding with probability
``condition_dropout`` (classifier-free guidance training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from mfdisco.core import Crystal
from mfdisco.generator.denoiser import Denoiser
from mfdisco.generator.diffusion.schedules import CosineSchedule, SigmaSchedule
from mfdisco.generator.diffusion.torus import wrapped_normal_score, wrapped_normal_score_norm

__all__ = ["CrystalBatch", "batch_from_crystals", "JointDiffusion"]


@dataclass(frozen=True)
class CrystalBatch:
    """Crystals as tensors, atoms stored crystal by crystal.

    Attributes:
        types: [n_atoms] index of each atom's element in the element table.
        frac_coords: [n_atoms, 3] fractional coordinates in [0, 1).
        lattice: [n_crystals, 3, 3] lattice vectors as rows (Å).
        num_atoms: [n_crystals] atoms per crystal.
        condition: [n_crystals, d] condition vectors, or None.
    """

    types: torch.Tensor
    frac_coords: torch.Tensor
    lattice: torch.Tensor
    num_atoms: torch.Tensor
    condition: torch.Tensor | None = None


def batch_from_crystals(
    crystals: Sequence[Crystal], elements: Sequence[int], conditions: np.ndarray | None = None, dtype: torch.dtype = torch.float32
) -> CrystalBatch:
    """Tensors of ``crystals`` over the element table ``elements`` (atomic numbers).

    Raises:
        ValueError: an element outside the table, or a condition array of the wrong length.
    """
    index = {int(z): i for i, z in enumerate(elements)}
    unknown = sorted({int(z) for c in crystals for z in c.atomic_numbers} - set(index))
    if unknown:
        raise ValueError(f"elements Z={unknown} are not in the generator's element table {list(elements)}")
    if conditions is not None and len(conditions) != len(crystals):
        raise ValueError(f"{len(conditions)} condition vectors for {len(crystals)} crystals")
    return CrystalBatch(
        types=torch.tensor([index[int(z)] for c in crystals for z in c.atomic_numbers], dtype=torch.long),
        frac_coords=torch.as_tensor(np.concatenate([np.mod(c.frac_coords, 1.0) for c in crystals]), dtype=dtype),
        lattice=torch.as_tensor(np.stack([c.lattice for c in crystals]), dtype=dtype),
        num_atoms=torch.tensor([c.num_sites for c in crystals], dtype=torch.long),
        condition=None if conditions is None else torch.as_tensor(conditions, dtype=dtype),
    )


class JointDiffusion(nn.Module):
    """The diffusion processes around a :class:`Denoiser`.

    Args:
        denoiser: the network.
        steps: diffusion steps T.
        sigma_min, sigma_max: range of the coordinate noise (fractional units).
        task: ``csp`` (composition given) or ``denovo`` (types diffused too).
        condition_dropout: probability of training a crystal without its condition.
        weights: loss weights of the lattice, coordinate and type terms.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        steps: int = 1000,
        sigma_min: float = 0.005,
        sigma_max: float = 0.5,
        task: Literal["csp", "denovo"] = "csp",
        condition_dropout: float = 0.1,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> None:
        super().__init__()
        if task not in ("csp", "denovo"):
            raise ValueError(f"task must be 'csp' or 'denovo', got {task!r}")
        if not 0 <= condition_dropout <= 1:
            raise ValueError(f"condition_dropout must be in [0, 1], got {condition_dropout}")
        self.denoiser, self.steps, self.task, self.condition_dropout, self.weights = denoiser, steps, task, condition_dropout, weights
        cosine, sigma = CosineSchedule(steps), SigmaSchedule(steps, sigma_min, sigma_max)
        self.register_buffer("alphas_cumprod", cosine.alphas_cumprod.float())
        self.register_buffer("betas", cosine.betas.float())
        self.register_buffer("sigmas", sigma.sigmas.float())
        norms = torch.ones_like(sigma.sigmas)
        norms[1:] = wrapped_normal_score_norm(sigma.sigmas[1:])
        self.register_buffer("score_norms", norms.float())
        #: Frobenius-norm bound (Å) on the sampler's predicted clean lattice; set from the
        #: training data by the backend, None for no bound.
        self.lattice_norm_bound: float | None = None

    def type_vectors(self, types: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """[n_atoms, num_types] one-hot vectors of type indices."""
        return nn.functional.one_hot(types, self.denoiser.num_types).to(dtype)

    def loss(self, batch: CrystalBatch, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """The training loss of one batch and its three parts (floats, for logging)."""
        n_crystals = len(batch.num_atoms)
        dtype = batch.lattice.dtype
        t = torch.randint(1, self.steps + 1, (n_crystals,), generator=generator)
        per_atom_t = torch.repeat_interleave(t, batch.num_atoms)
        alpha_bar = self.alphas_cumprod[t].to(dtype)[:, None, None]
        lattice_noise = torch.randn(batch.lattice.shape, generator=generator, dtype=dtype)
        noisy_lattice = alpha_bar.sqrt() * batch.lattice + (1 - alpha_bar).sqrt() * lattice_noise
        sigma = self.sigmas[per_atom_t].to(dtype)[:, None]
        displacement = sigma * torch.randn(batch.frac_coords.shape, generator=generator, dtype=dtype)
        noisy_coords = torch.remainder(batch.frac_coords + displacement, 1.0)
        target_score = wrapped_normal_score(displacement, sigma) / self.score_norms[per_atom_t].to(dtype)[:, None].sqrt()
        types = self.type_vectors(batch.types, dtype)
        type_noise = torch.zeros_like(types)
        if self.task == "denovo":
            atom_alpha_bar = self.alphas_cumprod[per_atom_t].to(dtype)[:, None]
            type_noise = torch.randn(types.shape, generator=generator, dtype=dtype)
            types = atom_alpha_bar.sqrt() * types + (1 - atom_alpha_bar).sqrt() * type_noise
        mask = None
        if batch.condition is not None:
            mask = torch.rand(n_crystals, generator=generator) >= self.condition_dropout
        out = self.denoiser(types, noisy_coords, noisy_lattice, batch.num_atoms, t.to(dtype) / self.steps, batch.condition, mask)
        lattice_term = ((out["lattice"] - lattice_noise) ** 2).mean()
        coords_term = ((out["coords"] - target_score) ** 2).mean()
        types_term = ((out["types"] - type_noise) ** 2).mean() if self.task == "denovo" else torch.zeros((), dtype=dtype)
        w_lattice, w_coords, w_types = self.weights
        loss = w_lattice * lattice_term + w_coords * coords_term + w_types * types_term
        return loss, {"lattice": float(lattice_term.detach()), "coords": float(coords_term.detach()), "types": float(types_term.detach())}
