"""A prediction of the potential for a list of structures, as plain values.

Passed from the validator to the active loop; holds no torch object. Units: eV/atom for
energies, eV/Å for forces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfdisco.core.fidelity import Fidelity

__all__ = ["Prediction"]


@dataclass(frozen=True)
class Prediction:
    """Ensemble energies of N structures at F fidelities.

    Attributes:
        fidelities: the F fidelities, in column order.
        energy_per_atom: [N, F] ensemble mean total energy per atom (eV/atom).
        energy_per_atom_std: [N, F] ensemble standard deviation (eV/atom), recalibrated
            where the potential carries a recalibration.
        members: [K, N, F] each ensemble member's energy per atom (eV/atom).
        forces: per structure, [F, n_atoms, 3] ensemble mean forces (eV/Å), or None.
    """

    fidelities: tuple[Fidelity, ...]
    energy_per_atom: np.ndarray
    energy_per_atom_std: np.ndarray
    members: np.ndarray
    forces: tuple[np.ndarray, ...] | None = None

    def column(self, fidelity: Fidelity | str) -> int:
        """Column of ``fidelity``.

        Raises:
            ValueError: the fidelity was not predicted.
        """
        fidelity = Fidelity.parse(fidelity)
        if fidelity not in self.fidelities:
            raise ValueError(f"fidelity {fidelity.value!r} was not predicted; predicted: {[f.value for f in self.fidelities]}")
        return self.fidelities.index(fidelity)

    def mean(self, fidelity: Fidelity | str) -> np.ndarray:
        """[N] mean energy per atom at ``fidelity`` (eV/atom)."""
        return self.energy_per_atom[:, self.column(fidelity)]

    def std(self, fidelity: Fidelity | str) -> np.ndarray:
        """[N] ensemble standard deviation at ``fidelity`` (eV/atom)."""
        return self.energy_per_atom_std[:, self.column(fidelity)]
