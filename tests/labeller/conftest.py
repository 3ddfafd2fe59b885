"""Small, fast systems for real PySCF calculations."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal
from mfdisco.labeller import LabelSettings

LIH_A = 4.0  # Å, rocksalt LiH (experiment 4.08)


@pytest.fixture
def lih() -> Crystal:
    """Rocksalt LiH, primitive cell (2 atoms, 4 valence electrons): closed-shell insulator."""
    lattice = 0.5 * LIH_A * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    return Crystal.from_species(lattice, ["Li", "H"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def fast() -> dict:
    """Settings for second-scale runs: correlation-consistent basis (compact for Li, H), 60 Ha grid, FFT."""
    return {"ke_cutoff_ha": 60.0, "basis": "gth-cc-dzvp", "pseudo": "gth-hf-rev", "density_fit": "fft"}


@pytest.fixture
def fast_settings(fast: dict) -> LabelSettings:
    return LabelSettings(**fast)
