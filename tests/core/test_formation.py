"""ΔE_f = E/N − Σ x_e μ_e: composition weights, and a missing reference named."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal, formation_energy_per_atom


def test_formation_energy_weights_references_by_atom_fraction() -> None:
    mgo2 = Crystal.from_species(np.eye(3) * 4.2, ["Mg", "O", "O"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]])
    # E/N = (mu_Mg + 2 mu_O)/3 - 1.5 eV/atom  ->  dEf = -1.5 eV/atom (a plain mean over elements would give a different value)
    energy_per_atom = (-10.0 + 2 * -20.0) / 3 - 1.5
    assert formation_energy_per_atom(mgo2, energy_per_atom, {"Mg": -10.0, "O": -20.0, "Ca": 1.0}) == pytest.approx(-1.5)
    with pytest.raises(KeyError, match="no reference energy for O"):
        formation_energy_per_atom(mgo2, -1.0, {"Mg": -10.0})
