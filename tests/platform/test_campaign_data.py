"""Candidates' predicted hull distances against the labelled hull of one fidelity."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.platform.campaign_data import LabelledStructure, predicted_hull_distances


def _cubic(species: list[str], a: float = 3.0) -> Crystal:
    frac = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])[: len(species)]
    return Crystal.from_species(np.eye(3) * a, species, frac)


def _labelled(structure_id: int, crystal: Crystal, energy_per_atom_ev: float) -> LabelledStructure:
    energy = energy_per_atom_ev * crystal.num_sites
    label = Label(Fidelity.CCSD_T, {}, "x", "done", energy_ev=energy, energy_per_atom_ev=energy_per_atom_ev)
    return LabelledStructure(structure_id, crystal, label)


def test_predicted_energies_are_measured_against_the_labelled_hull() -> None:
    # μ_Mg = -1, μ_O = -3 eV/atom; labelled MgO at -3.5 eV/atom: ΔE_f = -1.5 eV/atom
    labelled = [_labelled(1, _cubic(["Mg"]), -1.0), _labelled(2, _cubic(["O", "O"]), -3.0), _labelled(3, _cubic(["Mg", "O"]), -3.5)]
    candidates = [_cubic(["Mg", "O"]), _cubic(["Mg", "O"]), _cubic(["Mg", "Mg"]), _cubic(["Ca", "O"])]
    distances = predicted_hull_distances(labelled, candidates, [-3.4, -3.6, -0.8, -4.0])
    assert distances[:3] == pytest.approx([0.1, -0.1, 0.2])
    assert np.isnan(distances[3])  # no Ca reference: no hull, never a made-up one


def test_mismatched_predictions_are_refused() -> None:
    with pytest.raises(ValueError, match="2 crystals but 1 predicted energies"):
        predicted_hull_distances([], [_cubic(["Mg"]), _cubic(["O"])], [-1.0])
