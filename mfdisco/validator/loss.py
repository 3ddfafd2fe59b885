"""The weighted multi-task loss over fidelities.

For a batch of G configurations, configuration g with N_g atoms, fidelity f_g and
sample weight w_g:

    L = (1/G) Σ_g λ_{f_g} w_g [ α ((Ê_g − E_g)/N_g)²  +  β (1/(3 N_g)) Σ_i |F̂_i − F_i|² ]

with λ_f the fidelity's loss weight (CCSD(T) 1.0, HSE06 0.5, SCAN 0.3, PBE 0.1 by
default), α the energy weight on the per-atom energy error (eV/atom)² and β the force
weight on the force error (eV/Å)²; the force term counts only configurations that have
force labels. Dividing by G (not by Σλ) keeps the fidelity weights absolute, so a batch of
PBE labels moves the network ten times less than one of CCSD(T) labels.
"""

from __future__ import annotations

import torch

from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import FIDELITY_ORDER

__all__ = ["multi_fidelity_loss", "fidelity_weights"]


def fidelity_weights(config: PotentialConfig, dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.Tensor:
    """[n_fidelities] loss weight per head index."""
    return torch.tensor([config.loss_weight(f) for f in FIDELITY_ORDER], dtype=dtype, device=device)


def multi_fidelity_loss(
    predicted: dict[str, torch.Tensor | None], batch: dict[str, torch.Tensor], config: PotentialConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one batch and its energy and force parts (floats, for logging)."""
    energy = predicted["energy"]  # [n_graphs] eV
    lam = fidelity_weights(config, energy.dtype, energy.device)[batch["head"]] * batch["weight"]  # [n_graphs]
    n_graphs = energy.shape[0]
    per_atom_error = (energy - batch["energy"]) / batch["num_atoms"]  # [n_graphs] eV/atom
    energy_term = (lam * batch["has_energy"] * per_atom_error**2).sum() / n_graphs
    force_term = torch.zeros((), dtype=energy.dtype, device=energy.device)
    forces = predicted.get("forces")
    if forces is not None and bool(batch["has_forces"].any()):
        squared = ((forces - batch["forces"]) ** 2).sum(dim=1)  # [n_nodes]
        per_graph = torch.zeros(n_graphs, dtype=energy.dtype, device=energy.device).index_add(0, batch["batch"], squared) / (3 * batch["num_atoms"])
        force_term = (lam * batch["has_forces"] * per_graph).sum() / n_graphs
    loss = config.energy_weight * energy_term + config.forces_weight * force_term
    return loss, {"energy": float(energy_term.detach()), "forces": float(force_term.detach())}
