"""The denoiser: a periodic, E(3)-invariant, permutation-equivariant graph network (CSPNet-like).

Every crystal of a batch is a complete graph of its atoms (all ordered pairs i ≠ j). For
atoms i, j with fractional coordinates f_i, f_j, lattice L (rows a, b, c in Å) and the
hidden features h:

    d_ij  = (f_j − f_i) mod 1                                   periodic, translation invariant
    ψ(d)  = [sin 2πk d, cos 2πk d]_{k=1..K}                    Fourier features (6K)
    G     = L Lᵀ / ⟨ℓ²⟩                                           lattice Gram matrix: rotation invariant
    m_ij  = φ_m([h_i, h_j, G, ψ(d_ij)])
    h_i  ← h_i + φ_h([h_i, mean_j m_ij]) + W_c c + W_t τ(t)      condition and time at every layer

Outputs, from the final h:

* ``coords`` [n_atoms, 3]: the fractional-coordinate score (invariant: rotating the
  Cartesian frame changes no fractional coordinate);
* ``lattice`` [n_crystals, 3, 3]: ε̂_L = M L with M = φ_L(mean_i h_i) — rotating the frame
  (L → L Rᵀ) rotates the prediction the same way;
* ``types`` [n_atoms, n_types]: the atom-type prediction (ε or logits, for de novo).

Invariances (tests check them): permutation of atoms (outputs permute), rotation of the
Cartesian frame, translation of all fractional coordinates, integer shifts of any f_i.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

__all__ = ["Denoiser", "sinusoidal_embedding", "complete_graph_edges"]


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer-style embedding of the diffusion time t ∈ [0, 1]: [n, dim]."""
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    angles = 1000.0 * t[:, None] * frequencies[None, :]
    embedding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    return nn.functional.pad(embedding, (0, dim - 2 * half))


def complete_graph_edges(num_atoms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(senders, receivers) of every ordered pair i ≠ j within each crystal; num_atoms [n_crystals].

    Cached by the atom counts: a sampler calls the denoiser hundreds of times on one batch.
    """
    return _complete_graph_edges(tuple(num_atoms.tolist()))


@functools.lru_cache(maxsize=64)
def _complete_graph_edges(counts: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    senders, receivers = [], []
    offset = 0
    for n in counts:
        index = torch.arange(offset, offset + n)
        pairs = torch.cartesian_prod(index, index)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        senders.append(pairs[:, 0])
        receivers.append(pairs[:, 1])
        offset += n
    return torch.cat(senders), torch.cat(receivers)


class _Layer(nn.Module):
    def __init__(self, hidden: int, edge_features: int) -> None:
        super().__init__()
        self.message = nn.Sequential(nn.Linear(2 * hidden + 9 + edge_features, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.update = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.condition = nn.Linear(hidden, hidden)
        self.time = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(
        self, h: torch.Tensor, gram: torch.Tensor, fourier: torch.Tensor, senders: torch.Tensor, receivers: torch.Tensor,
        crystal_of_atom: torch.Tensor, condition: torch.Tensor, time: torch.Tensor,
    ) -> torch.Tensor:
        edge_input = torch.cat([h[receivers], h[senders], gram[crystal_of_atom[receivers]], fourier], dim=-1)
        messages = self.message(edge_input)  # [n_edges, hidden]
        total = torch.zeros_like(h).index_add(0, receivers, messages)
        count = torch.zeros(h.shape[0], 1, dtype=h.dtype, device=h.device).index_add(0, receivers, torch.ones_like(messages[:, :1]))
        mean = total / count.clamp(min=1.0)
        h = h + self.update(torch.cat([h, mean], dim=-1)) + self.condition(condition)[crystal_of_atom] + self.time(time)[crystal_of_atom]
        return self.norm(h)


class Denoiser(nn.Module):
    """The joint lattice / coordinate / type denoiser.

    Args:
        num_types: width of the atom-type vector (one-hot over the element table).
        condition_dim: width of the condition vector q (0 for none).
        hidden: width of the hidden features.
        layers: message-passing layers.
        fourier_frequencies: K of the Fourier features.
    """

    def __init__(self, num_types: int, condition_dim: int = 0, hidden: int = 128, layers: int = 4, fourier_frequencies: int = 16) -> None:
        super().__init__()
        if num_types < 1 or hidden < 2 or layers < 1 or fourier_frequencies < 1 or condition_dim < 0:
            raise ValueError(f"Denoiser sizes must be positive: num_types={num_types}, hidden={hidden}, layers={layers}, K={fourier_frequencies}, condition_dim={condition_dim}")
        self.num_types, self.condition_dim, self.hidden, self.fourier_frequencies = num_types, condition_dim, hidden, fourier_frequencies
        self.type_embedding = nn.Linear(num_types, hidden)
        self.time_embedding = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.condition_embedding = nn.Sequential(nn.Linear(max(condition_dim, 1), hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.null_condition = nn.Parameter(torch.zeros(hidden))  # the "no condition" embedding of classifier-free guidance
        self.layers = nn.ModuleList(_Layer(hidden, 6 * fourier_frequencies) for _ in range(layers))
        self.coords_head = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3, bias=False))
        self.types_head = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, num_types))
        self.lattice_head = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 9, bias=False))

    def fourier_features(self, difference: torch.Tensor) -> torch.Tensor:
        """[n_edges, 6K] sin/cos of 2πk d for k = 1..K and the three components of d."""
        k = torch.arange(1, self.fourier_frequencies + 1, dtype=difference.dtype, device=difference.device)
        angles = 2 * math.pi * difference[:, :, None] * k  # [n_edges, 3, K]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(difference.shape[0], 6 * self.fourier_frequencies)  # explicit: a batch of one-atom cells has no edges

    def forward(
        self,
        types: torch.Tensor,
        frac_coords: torch.Tensor,
        lattice: torch.Tensor,
        num_atoms: torch.Tensor,
        t: torch.Tensor,
        condition: torch.Tensor | None = None,
        condition_mask: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Predict the noise / scores of a batch.

        Args:
            types: [n_atoms, num_types] atom-type vectors (one-hot, or noised continuous).
            frac_coords: [n_atoms, 3] fractional coordinates.
            lattice: [n_crystals, 3, 3] lattice vectors as rows (Å).
            num_atoms: [n_crystals] atoms per crystal (atoms are stored crystal by crystal).
            t: [n_crystals] diffusion time in [0, 1].
            condition: [n_crystals, condition_dim] condition vectors, or None (unconditional).
            condition_mask: [n_crystals] bool, True where the condition is used (False: the
                learned null embedding, as in classifier-free guidance training and sampling).

        Returns:
            ``coords`` [n_atoms, 3], ``lattice`` [n_crystals, 3, 3], ``types`` [n_atoms, num_types].
        """
        crystal_of_atom = torch.repeat_interleave(torch.arange(len(num_atoms), device=types.device), num_atoms)  # [n_atoms]
        senders, receivers = complete_graph_edges(num_atoms)
        difference = torch.remainder(frac_coords[senders] - frac_coords[receivers], 1.0)  # [n_edges, 3]
        fourier = self.fourier_features(difference)
        scale = (lattice.norm(dim=-1) ** 2).mean(dim=-1, keepdim=True)[:, :, None]  # [n_crystals, 1, 1] Å²
        gram = (lattice @ lattice.transpose(1, 2) / scale).reshape(-1, 9)  # [n_crystals, 9]
        h = self.type_embedding(types)
        time = self.time_embedding(sinusoidal_embedding(t, self.hidden))
        null = self.null_condition.expand(len(num_atoms), -1)
        if condition is None or self.condition_dim == 0:
            condition_embedding = null
        else:
            condition_embedding = self.condition_embedding(condition)
            if condition_mask is not None:
                condition_embedding = torch.where(condition_mask[:, None], condition_embedding, null)
        for layer in self.layers:
            h = layer(h, gram, fourier, senders, receivers, crystal_of_atom, condition_embedding, time)
        pooled = torch.zeros(len(num_atoms), self.hidden, dtype=h.dtype, device=h.device).index_add(0, crystal_of_atom, h) / num_atoms[:, None]
        mixing = self.lattice_head(pooled).reshape(-1, 3, 3)  # [n_crystals, 3, 3], invariant
        return {"coords": self.coords_head(h), "lattice": mixing @ lattice, "types": self.types_head(h)}
