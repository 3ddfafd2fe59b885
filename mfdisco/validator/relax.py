"""Relaxing a crystal with the potential: FIRE on positions and cell (Fréchet cell filter)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE

from mfdisco.core import Crystal, Fidelity
from mfdisco.validator.calculator import MaceEnsembleCalculator
from mfdisco.validator.ensemble import MaceEnsemble

__all__ = ["Relaxation", "relax"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relaxation:
    """Outcome of one relaxation.

    Attributes:
        crystal: the relaxed structure.
        energy_per_atom_ev: final energy per atom at the relaxation fidelity (eV/atom).
        steps: optimiser steps taken.
        converged: max force below ``fmax`` (and stress below ``fmax`` eV/Å per Å² of cell filter).
    """

    crystal: Crystal
    energy_per_atom_ev: float
    steps: int
    converged: bool


def relax(
    crystal: Crystal, ensemble: MaceEnsemble, fidelity: Fidelity | str = Fidelity.PBE, fmax: float = 0.05, max_steps: int = 200, relax_cell: bool = True,
    members: int | None = None,
) -> Relaxation:
    """Relax ``crystal`` at ``fidelity`` with FIRE (positions, and the cell through a Fréchet cell filter).

    Args:
        crystal: starting structure.
        ensemble: the potential (its ensemble mean drives the relaxation).
        fidelity: the head used (PBE by default, as the active loop does).
        fmax: force convergence threshold (eV/Å).
        max_steps: optimiser step limit.
        relax_cell: also relax the lattice.
        members: relax on the first this many ensemble members only (None: the ensemble mean).
    """
    if fmax <= 0 or max_steps < 0:
        raise ValueError(f"relax needs fmax > 0 and max_steps >= 0, got fmax={fmax}, max_steps={max_steps}")
    atoms = crystal.to_ase()
    atoms.calc = MaceEnsembleCalculator(ensemble, fidelity, members=members)
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    optimiser = FIRE(target, logfile=None)
    converged = bool(optimiser.run(fmax=fmax, steps=max_steps))
    relaxed = Crystal(np.array(atoms.cell.array), atoms.get_scaled_positions(wrap=True), atoms.numbers)
    return Relaxation(relaxed, float(atoms.get_potential_energy()) / len(atoms), optimiser.nsteps, converged)
