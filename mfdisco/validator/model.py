"""The multi-fidelity MACE network: one readout head and one learned embedding per fidelity.

Built from mace-torch's Python API (``ScaleShiftMACE``):

* ``heads = ["pbe", "scan", "hse06", "ccsd_t"]``: MACE's multi-head readouts, so every
  fidelity has its own readout channels, its own atomic reference energies E0 (a
  ``[n_heads, n_elements]`` table) and its own scale and shift of the interaction
  energy;
* a categorical joint embedding ``fidelity`` (per graph) whose vector is added to the
  initial node features, so the message passing itself knows the level of theory.

The energy of a configuration at fidelity f is
``E_f = Σ_i E0_f(Z_i) + Σ_i (s_f · ε_i,f + μ_f)`` with ε the summed readouts of atom i
(eV); forces are ``-∂E/∂r`` by autograd. With ``delta_to_pbe`` (Δ-learning) every head
other than PBE's is a correction: ``E_f = E_pbe + [Σ_i ΔE0_f(Z_i) + Σ_i (s_f · ε_i,f + μ_f)]``,
the PBE term evaluated with the PBE head and embedding and detached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import mace.modules  # noqa: F401 - before e3nn (mace sets the torch.load workaround)
import numpy as np
import torch
from e3nn import o3

from mfdisco.core import Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import FIDELITY_ORDER, select_graphs

__all__ = ["BASE_HEAD", "MultiFidelityMACE", "default_dtype"]

#: Head index of the fidelity Δ-learning corrects (``PotentialConfig.delta_to_pbe``).
BASE_HEAD: int = FIDELITY_ORDER.index(Fidelity.PBE)


@contextlib.contextmanager
def default_dtype(name: str) -> Iterator[torch.dtype]:
    """Temporarily set torch's default dtype (MACE reads it when building its buffers)."""
    dtype = getattr(torch, name)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield dtype
    finally:
        torch.set_default_dtype(previous)


class MultiFidelityMACE(torch.nn.Module):
    """MACE with per-fidelity heads and embedding.

    Args:
        config: architecture.
        elements: atomic numbers of the one-hot element table.
        atomic_energies: [n_fidelities, n_elements] E0 per fidelity and element (eV).
        scale, shift: [n_fidelities] scale and shift of each head's atomic interaction energy (eV).
        avg_num_neighbors: mean neighbour count of the training graphs (message normalisation).
        trained_fidelities: fidelities that had training data; prediction of others is refused.
    """

    def __init__(
        self,
        config: PotentialConfig,
        elements: Sequence[int],
        atomic_energies: np.ndarray,
        scale: np.ndarray,
        shift: np.ndarray,
        avg_num_neighbors: float,
        trained_fidelities: Sequence[str] = (),
    ) -> None:
        super().__init__()
        from mace.modules import RealAgnosticResidualInteractionBlock, ScaleShiftMACE

        self.config = config
        self.elements = [int(z) for z in elements]
        self.trained_fidelities = [Fidelity.parse(f).value for f in trained_fidelities]
        self.init_arguments: dict[str, Any] = {
            "elements": self.elements,
            "atomic_energies": np.asarray(atomic_energies, dtype=float).tolist(),
            "scale": np.asarray(scale, dtype=float).tolist(),
            "shift": np.asarray(shift, dtype=float).tolist(),
            "avg_num_neighbors": float(avg_num_neighbors),
            "trained_fidelities": self.trained_fidelities,
        }
        heads = [f.value for f in FIDELITY_ORDER]
        irreps = " + ".join(f"{config.num_channels}x{ell}{'e' if ell % 2 == 0 else 'o'}" for ell in range(config.max_l + 1))
        with default_dtype(config.dtype):
            self.mace = ScaleShiftMACE(
                r_max=config.r_max,
                num_bessel=config.num_bessel,
                num_polynomial_cutoff=config.num_polynomial_cutoff,
                max_ell=config.max_ell,
                interaction_cls=RealAgnosticResidualInteractionBlock,
                interaction_cls_first=RealAgnosticResidualInteractionBlock,
                num_interactions=config.num_interactions,
                num_elements=len(self.elements),
                hidden_irreps=o3.Irreps(irreps),
                MLP_irreps=o3.Irreps(f"{config.mlp_irreps_per_head}x0e"),
                atomic_energies=np.asarray(atomic_energies, dtype=float),
                avg_num_neighbors=float(avg_num_neighbors),
                atomic_numbers=self.elements,
                correlation=config.correlation,
                gate=torch.nn.functional.silu,
                radial_MLP=list(config.radial_mlp),
                heads=heads,
                embedding_specs={
                    "fidelity": {"type": "categorical", "num_classes": len(heads), "emb_dim": config.fidelity_embedding_dim, "per": "graph"}
                },
                atomic_inter_scale=np.asarray(scale, dtype=float),
                atomic_inter_shift=np.asarray(shift, dtype=float),
            )
        self.dtype = getattr(torch, config.dtype)

    @property
    def device(self) -> torch.device:
        """The torch device the network's parameters are on."""
        return next(self.parameters()).device

    def forward(
        self, batch: dict[str, torch.Tensor], compute_forces: bool = True, training: bool = False, compute_stress: bool = False
    ) -> dict[str, torch.Tensor | None]:
        """Energies [n_graphs] (eV) at each graph's head; forces [n_nodes, 3] (eV/Å) and
        stress [n_graphs, 3, 3] (eV/Å³, positive under tension as in ASE) when asked.

        With ``delta_to_pbe`` the PBE term of the corrected graphs (those at another head)
        comes from a second pass over those graphs alone. In ``training`` its forces are
        evaluated only when one of them carries force labels (``has_forces``): the loss
        reads no other, so the forces returned for an unlabelled corrected graph are then
        the correction's alone.
        """
        result = self._heads(batch, batch["head"], compute_forces, training, compute_stress)
        corrected = batch["head"] != BASE_HEAD  # [n_graphs]
        if self.config.delta_to_pbe and bool(corrected.any()):
            sub = batch if bool(corrected.all()) else select_graphs(batch, corrected)
            base_forces = compute_forces and (not training or bool(sub["has_forces"].any()))
            with torch.set_grad_enabled(torch.is_grad_enabled() and (base_forces or compute_stress)):
                base = self._heads(sub, torch.full_like(sub["head"], BASE_HEAD), base_forces, False, compute_stress)
            graphs = corrected.nonzero().squeeze(-1)  # [n_corrected]
            result["energy"] = result["energy"].index_add(0, graphs, base["energy"].detach())
            if base_forces:
                nodes = corrected[batch["batch"]].nonzero().squeeze(-1)  # [n_corrected_nodes]
                result["forces"] = result["forces"].index_add(0, nodes, base["forces"].detach())
            if compute_stress:
                result["stress"] = result["stress"].index_add(0, graphs, base["stress"].detach())
        return result

    def _heads(
        self, batch: dict[str, torch.Tensor], heads: torch.Tensor, compute_forces: bool, training: bool, compute_stress: bool
    ) -> dict[str, torch.Tensor | None]:
        """MACE evaluated with the given head (and fidelity embedding) per graph, heads [n_graphs]."""
        data = dict(batch)
        data["positions"] = data["positions"].detach().clone()
        data["head"], data["fidelity"] = heads, heads
        out = self.mace(data, training=training, compute_force=compute_forces, compute_stress=compute_stress)
        return {
            "energy": out["energy"],
            "forces": out["forces"] if compute_forces else None,
            "stress": out["stress"] if compute_stress else None,
        }

    def fidelity_parameters(self) -> dict[str, dict[str, torch.Tensor]]:
        """Which elements of which parameters belong to one fidelity alone.

        Found by probing: the gradient of each head's energy on a small random
        configuration is taken with respect to every parameter; an element whose gradient
        is non-zero for head f and exactly zero for every other head is f's own (its
        embedding row, its readout channels). Everything else is shared backbone.

        Returns:
            ``{fidelity: {parameter name: bool mask of the parameter's shape}}``.
        """
        generator = torch.Generator().manual_seed(0)
        n_atoms = max(4, len(self.elements))
        numbers = [self.elements[i % len(self.elements)] for i in range(n_atoms)]
        positions = torch.rand((n_atoms, 3), generator=generator, dtype=self.dtype) * 3.0
        senders, receivers = zip(*[(i, j) for i in range(n_atoms) for j in range(n_atoms) if i != j], strict=True)
        one_hot = torch.zeros((n_atoms, len(self.elements)), dtype=self.dtype)
        one_hot[torch.arange(n_atoms), torch.tensor([self.elements.index(z) for z in numbers])] = 1.0
        touched: dict[str, list[torch.Tensor]] = {}
        named = dict(self.named_parameters())
        for head in range(len(FIDELITY_ORDER)):
            probe = {
                "positions": positions,
                "node_attrs": one_hot,
                "edge_index": torch.tensor([senders, receivers]),
                "shifts": torch.zeros((len(senders), 3), dtype=self.dtype),
                "unit_shifts": torch.zeros((len(senders), 3), dtype=self.dtype),
                "cell": torch.zeros((3, 3), dtype=self.dtype),
                "batch": torch.zeros(n_atoms, dtype=torch.long),
                "ptr": torch.tensor([0, n_atoms]),
                "head": torch.tensor([head]),
                "fidelity": torch.tensor([head]),
            }
            batch = {name: value.to(self.device) for name, value in probe.items()}
            energy = self.forward(batch, compute_forces=False)["energy"].sum()
            grads = torch.autograd.grad(energy, list(named.values()), allow_unused=True)
            for name, grad in zip(named, grads, strict=True):
                touched.setdefault(name, []).append(torch.zeros_like(named[name], dtype=torch.bool) if grad is None else grad != 0)
        owned: dict[str, dict[str, torch.Tensor]] = {f.value: {} for f in FIDELITY_ORDER}
        for name, masks in touched.items():
            stacked = torch.stack(masks)  # [n_heads, *shape]
            only_one = stacked.sum(dim=0) == 1
            for head, fidelity in enumerate(FIDELITY_ORDER):
                mask = stacked[head] & only_one
                if mask.any():
                    owned[fidelity.value][name] = mask
        return owned
