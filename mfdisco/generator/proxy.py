"""The descriptor proxy: a light graph isomorphism network (GIN) that predicts q from a structure.

It scores generated structures and gives a condition vector to training structures that
have no PySCF label. Graph: atoms within ``cutoff`` (periodic images included); layer

    h_i ← MLP_l((1 + ε_l) h_i + Σ_j h_j ⊙ W_l b(d_ij)),

a GIN update whose neighbour sum is weighted by a learned map of Gaussian radial basis
functions b(d) of the distance (so the geometry enters; distances make it invariant to
rotations, translations and permutations). Readout: mean over atoms → MLP → q. Targets
are standardised per component during training and restored at prediction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from mfdisco.core import Crystal

__all__ = ["DescriptorProxy", "ProxyGraphs", "proxy_graphs", "fit_proxy", "save_proxy", "load_proxy"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxyGraphs:
    """A batch of radius graphs: ``numbers [n_atoms]``, ``senders/receivers [n_edges]``,
    ``distances [n_edges]`` (Å), ``crystal_of_atom [n_atoms]``, ``num_crystals``."""

    numbers: torch.Tensor
    senders: torch.Tensor
    receivers: torch.Tensor
    distances: torch.Tensor
    crystal_of_atom: torch.Tensor
    num_crystals: int


def proxy_graphs(crystals: Sequence[Crystal], cutoff: float) -> ProxyGraphs:
    """Radius graphs of ``crystals`` with the periodic neighbour list of matscipy."""
    from matscipy.neighbours import neighbour_list

    numbers, senders, receivers, distances, owner = [], [], [], [], []
    offset = 0
    for k, crystal in enumerate(crystals):
        i, j, d = neighbour_list("ijd", positions=crystal.cart_coords, cell=crystal.lattice, pbc=[True] * 3, cutoff=cutoff, numbers=np.asarray(crystal.atomic_numbers, dtype=np.int32))
        numbers.append(np.asarray(crystal.atomic_numbers))
        senders.append(j + offset)
        receivers.append(i + offset)
        distances.append(d)
        owner.append(np.full(crystal.num_sites, k))
        offset += crystal.num_sites
    return ProxyGraphs(
        numbers=torch.as_tensor(np.concatenate(numbers), dtype=torch.long),
        senders=torch.as_tensor(np.concatenate(senders), dtype=torch.long),
        receivers=torch.as_tensor(np.concatenate(receivers), dtype=torch.long),
        distances=torch.as_tensor(np.concatenate(distances), dtype=torch.float32),
        crystal_of_atom=torch.as_tensor(np.concatenate(owner), dtype=torch.long),
        num_crystals=len(crystals),
    )


class DescriptorProxy(nn.Module):
    """GIN regressor from a structure to a descriptor vector.

    Args:
        output_dim: length of q.
        hidden: feature width.
        layers: GIN layers.
        cutoff: neighbour cutoff (Å).
        radial_basis: Gaussian radial basis functions on [0, cutoff].
    """

    def __init__(self, output_dim: int, hidden: int = 64, layers: int = 3, cutoff: float = 5.0, radial_basis: int = 16) -> None:
        super().__init__()
        if output_dim < 1 or hidden < 1 or layers < 1 or cutoff <= 0 or radial_basis < 1:
            raise ValueError(f"DescriptorProxy sizes must be positive: output_dim={output_dim}, hidden={hidden}, layers={layers}, cutoff={cutoff}")
        self.output_dim, self.cutoff = output_dim, cutoff
        self.element_embedding = nn.Embedding(119, hidden)
        self.register_buffer("centres", torch.linspace(0.0, cutoff, radial_basis))
        self.width = cutoff / radial_basis
        self.edge_weights = nn.ModuleList(nn.Linear(radial_basis, hidden) for _ in range(layers))
        self.epsilons = nn.Parameter(torch.zeros(layers))
        self.updates = nn.ModuleList(nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)) for _ in range(layers))
        self.readout = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, output_dim))
        self.register_buffer("target_mean", torch.zeros(output_dim))
        self.register_buffer("target_std", torch.ones(output_dim))

    def forward(self, graphs: ProxyGraphs) -> torch.Tensor:
        """[n_crystals, output_dim] standardised predictions."""
        h = self.element_embedding(graphs.numbers)  # [n_atoms, hidden]
        basis = torch.exp(-(((graphs.distances[:, None] - self.centres) / self.width) ** 2))  # [n_edges, n_basis]
        envelope = 0.5 * (torch.cos(torch.pi * graphs.distances / self.cutoff) + 1.0)[:, None]  # smooth at the cutoff
        for eps, weights, update in zip(self.epsilons, self.edge_weights, self.updates, strict=True):
            messages = h[graphs.senders] * weights(basis) * envelope  # [n_edges, hidden]
            aggregated = torch.zeros_like(h).index_add(0, graphs.receivers, messages)
            h = h + update((1 + eps) * h + aggregated)
        counts = torch.zeros(graphs.num_crystals, 1).index_add(0, graphs.crystal_of_atom, torch.ones(len(h), 1))
        pooled = torch.zeros(graphs.num_crystals, h.shape[1]).index_add(0, graphs.crystal_of_atom, h) / counts
        return self.readout(pooled)

    @torch.no_grad()
    def predict(self, crystals: Sequence[Crystal], batch_size: int = 256) -> np.ndarray:
        """[n_crystals, output_dim] descriptors in their own units."""
        self.eval()
        chunks = []
        for first in range(0, len(crystals), batch_size):
            out = self.forward(proxy_graphs(crystals[first : first + batch_size], self.cutoff))
            chunks.append((out * self.target_std + self.target_mean).numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.output_dim))


def fit_proxy(
    crystals: Sequence[Crystal], targets: np.ndarray, epochs: int = 200, batch_size: int = 32, learning_rate: float = 3e-3,
    hidden: int = 64, layers: int = 3, cutoff: float = 5.0, seed: int = 0, progress: bool = True,
) -> DescriptorProxy:
    """Train a proxy on (structure, descriptor) pairs by mean squared error of standardised targets.

    Raises:
        ValueError: targets not of shape [n_crystals, d] or not finite.
    """
    targets = np.asarray(targets, dtype=np.float32)
    if targets.ndim != 2 or len(targets) != len(crystals) or not np.all(np.isfinite(targets)):
        raise ValueError(f"targets must be finite with shape ({len(crystals)}, d), got {targets.shape}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DescriptorProxy(targets.shape[1], hidden, layers, cutoff)
    mean, std = targets.mean(axis=0), targets.std(axis=0)
    model.target_mean.copy_(torch.as_tensor(mean))
    model.target_std.copy_(torch.as_tensor(np.where(std > 1e-8, std, 1.0)))
    standardised = torch.as_tensor((targets - mean) / model.target_std.numpy())
    graphs = [proxy_graphs([c], cutoff) for c in crystals]
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    for _ in tqdm(range(epochs), desc="descriptor proxy", disable=not progress, leave=False):
        order = rng.permutation(len(crystals))
        for first in range(0, len(order), batch_size):
            chosen = order[first : first + batch_size]
            batch = _merge([graphs[i] for i in chosen])
            loss = ((model(batch) - standardised[chosen]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def _merge(parts: Sequence[ProxyGraphs]) -> ProxyGraphs:
    """One batch of several single-crystal graphs."""
    offsets = np.cumsum([0] + [len(p.numbers) for p in parts[:-1]])
    return ProxyGraphs(
        numbers=torch.cat([p.numbers for p in parts]),
        senders=torch.cat([p.senders + int(o) for p, o in zip(parts, offsets, strict=True)]),
        receivers=torch.cat([p.receivers + int(o) for p, o in zip(parts, offsets, strict=True)]),
        distances=torch.cat([p.distances for p in parts]),
        crystal_of_atom=torch.cat([p.crystal_of_atom + k for k, p in enumerate(parts)]),
        num_crystals=len(parts),
    )


PROXY_FORMAT = "mfdisco-descriptor-proxy/1"


def save_proxy(model: DescriptorProxy, names: Sequence[str], path: str | Path) -> Path:
    """Write a proxy checkpoint (tensors and JSON only) with the names of its outputs."""
    from mfdisco.core.plugins import write_checkpoint

    sizes = {"output_dim": model.output_dim, "hidden": model.readout[0].in_features, "layers": len(model.updates), "cutoff": model.cutoff, "radial_basis": len(model.centres)}
    return write_checkpoint({"format": PROXY_FORMAT, "meta": json.dumps({"names": list(names), "sizes": sizes}), "state": model.state_dict()}, path)


def load_proxy(path: str | Path) -> tuple[DescriptorProxy, list[str]]:
    """Read a checkpoint of :func:`save_proxy`: the proxy and the names of its outputs.

    Raises:
        FileNotFoundError, ValueError: missing file or not a proxy checkpoint.
    """
    from mfdisco.core.plugins import read_checkpoint

    payload = read_checkpoint(path, PROXY_FORMAT, "descriptor proxy")
    meta = json.loads(payload["meta"])
    model = DescriptorProxy(**meta["sizes"])
    model.load_state_dict(payload["state"])
    return model.eval(), list(meta["names"])
