"""Formation energies from stored labels: like-with-like references, O2 as a triplet."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import NewStructure, add_structures, record_label
from mfdisco.labeller import LabelSettings, settings_hash
from mfdisco.labeller.references import formation_energies, reference_crystal, reference_jobs, store_references


def _done(fidelity: Fidelity, settings: LabelSettings, energy_per_atom: float, n_atoms: int) -> Label:
    """A stored outcome with a given energy: test data for the bookkeeping, not a PySCF result."""
    return Label(fidelity, settings.model_dump(mode="json"), settings_hash(fidelity, settings), "done",
                 energy_ev=energy_per_atom * n_atoms, energy_per_atom_ev=energy_per_atom)


def test_formation_energy_uses_references_at_the_same_settings(engine: Engine) -> None:
    settings = LabelSettings()
    mgo = Crystal.from_species(2.1 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    (mgo_id,) = add_structures(engine, [NewStructure(mgo, "t")]).ids
    jobs = dict(reference_jobs(engine, ["Mg", "O"], Fidelity.PBE, settings))
    references = store_references(engine, ["O", "Mg"])
    assert set(jobs) == set(references.values())
    assert jobs[references["O"]].magmoms["O"] == 1.0  # O2 computed as a triplet
    assert jobs[references["Mg"]] == settings

    record_label(engine, mgo_id, _done(Fidelity.PBE, settings, -10.0, 2))
    energies, missing = formation_energies(engine, [mgo_id], "pbe", settings)
    assert energies == {} and "reference label for Mg, O" in missing[mgo_id]

    record_label(engine, references["Mg"], _done(Fidelity.PBE, settings, -8.0, reference_crystal("Mg").num_sites))
    record_label(engine, references["O"], _done(Fidelity.PBE, jobs[references["O"]], -9.0, 2))
    energies, missing = formation_energies(engine, [mgo_id], "pbe", settings)
    assert energies[mgo_id] == pytest.approx(-10.0 - (-8.0 - 9.0) / 2)  # -1.5 eV/atom
    assert not missing

    # Another settings family has no labels: nothing is mixed in.
    other, why = formation_energies(engine, [mgo_id], "pbe", LabelSettings(grid_level=2))
    assert other == {} and "no done pbe label" in why[mgo_id]
