"""Tiny multi-fidelity MACE models and synthetic labelled data for validator tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mfdisco.core import Crystal, Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.samples import Sample

warnings.filterwarnings("ignore", message="The TorchScript type system")


@pytest.fixture
def tiny_config() -> PotentialConfig:
    """A few-thousand-parameter network: seconds per training run on one core."""
    return PotentialConfig(
        r_max=4.0, num_channels=8, max_l=1, max_ell=2, correlation=2, num_interactions=2, num_bessel=4,
        radial_mlp=[8, 8], mlp_irreps_per_head=4, fidelity_embedding_dim=4, epochs=4, batch_size=4,
        ensemble_size=2, threads=1, seed=7,
    )


def rocksalt(a: float, cation: str = "Mg") -> Crystal:
    """Primitive rocksalt cell (2 atoms) with lattice parameter ``a`` (Å)."""
    lattice = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    return Crystal.from_species(lattice, [cation, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def synthetic_energy(crystal: Crystal, fidelity: Fidelity) -> float:
    """A smooth, fidelity-dependent model energy (eV) used as labels: per-element offsets plus a
    volume term whose curvature depends on the fidelity."""
    offsets = {"Mg": -50.0, "Ca": -36.0, "O": -430.0}
    stiffness = {Fidelity.PBE: 0.010, Fidelity.CCSD_T: 0.016}[fidelity]
    volume_per_atom = crystal.volume / crystal.num_sites
    shift = 0.0 if fidelity == Fidelity.PBE else 3.0
    return sum(offsets[s] + shift for s in crystal.species) + crystal.num_sites * stiffness * (volume_per_atom - 9.5) ** 2


@pytest.fixture
def two_fidelity_samples(rng: np.random.Generator) -> list[Sample]:
    """Rocksalt MgO and CaO at several volumes, with PBE and CCSD(T)-like synthetic labels."""
    samples = []
    for cation, a0 in (("Mg", 4.21), ("Ca", 4.81)):
        for a in a0 * np.linspace(0.96, 1.04, 6):
            crystal = rocksalt(a, cation)
            for fidelity in (Fidelity.PBE, Fidelity.CCSD_T):
                samples.append(Sample.from_crystal(crystal, fidelity, synthetic_energy(crystal, fidelity)))
    return samples
