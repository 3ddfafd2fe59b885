"""Neighbour graphs of samples and their batching into MACE's input dictionary.

Edges join every ordered pair of atoms (i, j) closer than ``r_max``, including periodic
images: the edge vector is ``r_j - r_i + shift`` with ``shift = n · L`` for an integer
image vector ``n`` (``unit_shifts``) and lattice ``L`` (rows, Å). Molecules have no
images. The neighbour search is mace-torch's (matscipy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mfdisco.core import Fidelity
from mfdisco.validator.samples import Sample

__all__ = ["NeighbourGraph", "neighbour_graph", "collate", "select_graphs", "FIDELITY_ORDER"]

#: Keys of :func:`collate`'s dictionary by what their first dimension counts.
_PER_GRAPH = ("head", "fidelity", "num_atoms", "energy", "has_energy", "has_forces", "weight")
_PER_NODE = ("positions", "node_attrs", "forces")
_PER_EDGE = ("unit_shifts", "shifts")

#: Head / embedding index of each fidelity.
FIDELITY_ORDER: tuple[Fidelity, ...] = (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06, Fidelity.CCSD_T)


@dataclass(frozen=True)
class NeighbourGraph:
    """Edges of one configuration.

    Attributes:
        edge_index: [2, n_edges] sender and receiver atom indices.
        unit_shifts: [n_edges, 3] integer image vectors n.
    """

    edge_index: np.ndarray
    unit_shifts: np.ndarray


def neighbour_graph(sample: Sample, r_max: float) -> NeighbourGraph:
    """All directed edges of ``sample`` shorter than ``r_max`` (Å), periodic images included."""
    from mace.data.neighborhood import get_neighborhood

    pbc = (True, True, True) if sample.periodic else (False, False, False)
    edge_index, _, unit_shifts, _ = get_neighborhood(
        positions=np.asarray(sample.positions, dtype=float), cutoff=r_max, pbc=pbc, cell=None if sample.cell is None else np.array(sample.cell)
    )
    return NeighbourGraph(edge_index=np.asarray(edge_index, dtype=np.int64), unit_shifts=np.asarray(unit_shifts, dtype=float))


def collate(
    samples: Sequence[Sample],
    graphs: Sequence[NeighbourGraph],
    elements: Sequence[int],
    dtype: torch.dtype,
    fidelities: Sequence[Fidelity] | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, torch.Tensor]:
    """One MACE input dictionary for a batch of samples.

    Args:
        samples: the configurations.
        graphs: their neighbour graphs (same order).
        elements: atomic numbers of the model's one-hot table.
        dtype: floating dtype of the model.
        fidelities: the head each sample is evaluated with; the samples' own by default.
        device: the torch device the tensors are placed on (the model's).

    Returns:
        ``positions [n_nodes, 3]``, ``node_attrs [n_nodes, n_elements]``,
        ``edge_index [2, n_edges]``, ``shifts / unit_shifts [n_edges, 3]``,
        ``cell [3 n_graphs, 3]``, ``batch [n_nodes]``, ``ptr [n_graphs + 1]``,
        ``head`` and ``fidelity [n_graphs]`` (head index), ``num_atoms [n_graphs]``,
        and the labels ``energy [n_graphs]`` (eV), ``has_energy``, ``forces [n_nodes, 3]``
        (eV/Å), ``has_forces [n_graphs]``, ``weight [n_graphs]``.

    Raises:
        ValueError: an element outside the model's table.
    """
    index_of = {int(z): i for i, z in enumerate(elements)}
    fidelities = [s.fidelity for s in samples] if fidelities is None else list(fidelities)
    positions, node_attrs, edges, unit_shifts, shifts, cells, batch = [], [], [], [], [], [], []
    offset = 0
    for g, (sample, graph) in enumerate(zip(samples, graphs, strict=True)):
        unknown = sorted({int(z) for z in sample.atomic_numbers} - set(index_of))
        if unknown:
            raise ValueError(f"elements Z={unknown} are not in the potential's element table {list(elements)}")
        cell = np.zeros((3, 3)) if sample.cell is None else np.asarray(sample.cell, dtype=float)
        one_hot = np.zeros((sample.num_atoms, len(elements)))
        one_hot[np.arange(sample.num_atoms), [index_of[int(z)] for z in sample.atomic_numbers]] = 1.0
        positions.append(sample.positions)
        node_attrs.append(one_hot)
        edges.append(graph.edge_index + offset)
        unit_shifts.append(graph.unit_shifts)
        shifts.append(graph.unit_shifts @ cell)
        cells.append(cell)
        batch.append(np.full(sample.num_atoms, g))
        offset += sample.num_atoms
    counts = np.array([s.num_atoms for s in samples])
    heads = torch.tensor([FIDELITY_ORDER.index(Fidelity.parse(f)) for f in fidelities], dtype=torch.long)
    forces = [s.forces_ev_per_a if s.forces_ev_per_a is not None else np.zeros((s.num_atoms, 3)) for s in samples]

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=dtype)

    tensors = {
        "positions": tensor(np.concatenate(positions)),
        "node_attrs": tensor(np.concatenate(node_attrs)),
        "edge_index": torch.as_tensor(np.concatenate(edges, axis=1), dtype=torch.long),
        "unit_shifts": tensor(np.concatenate(unit_shifts)),
        "shifts": tensor(np.concatenate(shifts)),
        "cell": tensor(np.concatenate(cells)),
        "batch": torch.as_tensor(np.concatenate(batch), dtype=torch.long),
        "ptr": torch.as_tensor(np.concatenate([[0], np.cumsum(counts)]), dtype=torch.long),
        "head": heads,
        "fidelity": heads.clone(),
        "num_atoms": tensor(counts),
        "energy": tensor([s.energy_ev if s.energy_ev is not None else 0.0 for s in samples]),
        "has_energy": torch.tensor([s.energy_ev is not None for s in samples]),
        "forces": tensor(np.concatenate(forces)),
        "has_forces": torch.tensor([s.forces_ev_per_a is not None for s in samples]),
        "weight": tensor([s.weight for s in samples]),
    }
    return {name: value.to(device) for name, value in tensors.items()}


def select_graphs(batch: dict[str, torch.Tensor], keep: torch.Tensor) -> dict[str, torch.Tensor]:
    """The sub-batch of the graphs marked in ``keep``, as :func:`collate` would have built it.

    Nodes, edges, cells and labels of the kept graphs, in their order; node indices of
    the edges and the graph index of every node are renumbered.

    Args:
        batch: a dictionary from :func:`collate`.
        keep: [n_graphs] bool, the graphs to keep.

    Raises:
        ValueError: ``keep`` has the wrong length, or ``batch`` holds a key this
            function does not know how to split.
    """
    n_graphs = batch["head"].shape[0]
    if keep.shape != (n_graphs,):
        raise ValueError(f"keep has shape {tuple(keep.shape)}; the batch has {n_graphs} graphs")
    unknown = sorted(set(batch) - {*_PER_GRAPH, *_PER_NODE, *_PER_EDGE, "edge_index", "cell", "batch", "ptr"})
    if unknown:
        raise ValueError(f"select_graphs cannot split the batch entries {unknown}")
    keep = keep.to(torch.bool)
    node_keep = keep[batch["batch"]]  # [n_nodes]
    edge_keep = node_keep[batch["edge_index"][0]]  # [n_edges]: both ends lie in one graph
    new_node = torch.cumsum(node_keep.long(), 0) - 1  # [n_nodes] index in the sub-batch
    new_graph = torch.cumsum(keep.long(), 0) - 1  # [n_graphs]
    counts = (batch["ptr"][1:] - batch["ptr"][:-1])[keep]  # [n_kept]
    selected = {name: batch[name][keep] for name in _PER_GRAPH}
    selected |= {name: batch[name][node_keep] for name in _PER_NODE}
    selected |= {name: batch[name][edge_keep] for name in _PER_EDGE}
    selected["edge_index"] = new_node[batch["edge_index"][:, edge_keep]]
    selected["cell"] = batch["cell"].reshape(n_graphs, 3, 3)[keep].reshape(-1, 3)
    selected["batch"] = new_graph[batch["batch"][node_keep]]
    selected["ptr"] = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    return selected
