"""An ASE calculator on the ensemble at one fidelity (energy, forces, stress).

Used to relax generated candidates (FIRE with a cell filter) at the PBE head before
they are scored. The ensemble mean is returned; ``results["energy_std"]`` holds the
ensemble standard deviation of the total energy (eV).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from mfdisco.core import Fidelity
from mfdisco.validator.ensemble import MaceEnsemble
from mfdisco.validator.graph import collate, neighbour_graph
from mfdisco.validator.samples import Sample

__all__ = ["MaceEnsembleCalculator"]


class MaceEnsembleCalculator(Calculator):
    """ASE calculator: ensemble-mean energy (eV), forces (eV/Å) and stress (eV/Å³, Voigt).

    Args:
        ensemble: the trained ensemble.
        fidelity: the head to evaluate (``pbe`` for relaxations).
        members: use only the first this many members (None: all); one member makes a
            relaxation K times cheaper, and the ensemble then scores the relaxed structure.

    Raises:
        ValueError: the ensemble was not trained at ``fidelity``.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, ensemble: MaceEnsemble, fidelity: Fidelity | str = Fidelity.PBE, members: int | None = None, **kwargs) -> None:  # noqa: ANN003 - ASE's
        super().__init__(**kwargs)
        if members is not None and not 1 <= members <= len(ensemble.members):
            raise ValueError(f"members must be in 1..{len(ensemble.members)}, got {members}")
        self.members = ensemble.members[:members] if members is not None else ensemble.members
        self.fidelity = Fidelity.parse(fidelity)
        if self.fidelity not in ensemble.trained_fidelities:
            raise ValueError(f"fidelity {self.fidelity.value!r} is not trained; trained: {[f.value for f in ensemble.trained_fidelities]}")
        self.ensemble = ensemble

    def calculate(self, atoms: Atoms | None = None, properties: list[str] | None = None, system_changes: list[str] = all_changes) -> None:
        super().calculate(atoms, properties or ["energy"], system_changes)
        periodic = bool(np.all(self.atoms.pbc))
        sample = Sample(
            atomic_numbers=np.asarray(self.atoms.numbers, dtype=np.int64),
            positions=np.asarray(self.atoms.positions, dtype=float),
            cell=np.asarray(self.atoms.cell.array, dtype=float) if periodic else None,
            fidelity=self.fidelity,
        )
        graph = neighbour_graph(sample, self.ensemble.config.r_max)
        energies, forces, stresses = [], [], []
        for member in self.members:
            batch = collate([sample], [graph], member.elements, member.dtype, device=member.device)
            out = member(batch, compute_forces=True, compute_stress=periodic)
            energies.append(float(out["energy"].detach()[0]))
            forces.append(out["forces"].detach().cpu().numpy())
            if periodic:
                stresses.append(out["stress"].detach().cpu().numpy()[0])
        self.results["energy"] = self.results["free_energy"] = float(np.mean(energies))
        self.results["energy_std"] = float(np.std(energies, ddof=1)) if len(energies) > 1 else 0.0
        self.results["forces"] = np.mean(forces, axis=0)
        if periodic:
            s = np.mean(stresses, axis=0)
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
