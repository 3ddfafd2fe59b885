"""Batching of neighbour graphs: the sub-batch of selected graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Fidelity
from mfdisco.validator.graph import collate, neighbour_graph, select_graphs
from mfdisco.validator.samples import Sample
from tests.validator.conftest import rocksalt

ELEMENTS = [1, 8, 12]


def test_selected_graphs_equal_the_batch_of_those_samples_alone(rng: np.random.Generator) -> None:
    crystal = rocksalt(4.2)
    cell = Sample.from_crystal(crystal, Fidelity.PBE, energy_ev=-3.0, forces_ev_per_a=rng.normal(size=(crystal.num_sites, 3)))
    water = Sample(np.array([8, 1, 1]), np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]), None, Fidelity.CCSD_T, energy_ev=-2.0)
    samples = [water, cell, water, cell]
    fidelities = [Fidelity.CCSD_T, Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06]
    graphs = [neighbour_graph(s, 4.0) for s in samples]
    batch = collate(samples, graphs, ELEMENTS, torch.float64, fidelities=fidelities)
    keep = [0, 3]
    selected = select_graphs(batch, torch.tensor([g in keep for g in range(len(samples))]))
    expected = collate([samples[g] for g in keep], [graphs[g] for g in keep], ELEMENTS, torch.float64, fidelities=[fidelities[g] for g in keep])
    assert selected.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(selected[name], value), name
    assert selected["edge_index"].shape[1] > 0


def test_select_graphs_refuses_a_mask_of_the_wrong_length() -> None:
    sample = Sample.from_crystal(rocksalt(4.2), Fidelity.PBE)
    batch = collate([sample], [neighbour_graph(sample, 4.0)], ELEMENTS, torch.float64)
    with pytest.raises(ValueError, match="keep has shape"):
        select_graphs(batch, torch.tensor([True, False]))
