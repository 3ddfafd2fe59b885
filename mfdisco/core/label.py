"""A label: the result of one quantum-chemistry calculation, as plain values.

Passed from the labeller to the database and on to the validator; holds no PySCF object.
Units: energies in eV (total) and eV/atom, forces in eV/Å, stress in eV/Å³ (Voigt
order xx, yy, zz, yz, xz, xy), magnetic moment in μB per cell, times in s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mfdisco.core.fidelity import Fidelity

__all__ = ["Label", "LabelStatus", "LABEL_STATUSES"]

LabelStatus = Literal["done", "failed", "refused"]
LABEL_STATUSES: tuple[str, ...] = ("done", "failed", "refused")


@dataclass
class Label:
    """Outcome of labelling one crystal at one fidelity with one set of settings.

    Attributes:
        fidelity: the level of theory.
        settings: every setting that defines the calculation (JSON-ready).
        settings_hash: SHA-256 of the settings and fidelity; the database key with the structure.
        status: ``done``; ``failed`` (ran and did not finish: non-convergence, timeout,
            memory, crash); ``refused`` (not run: cost over the limits, unsupported element).
        energy_ev: total energy of the cell (eV).
        energy_per_atom_ev: total energy per atom (eV/atom).
        forces_ev_per_a: forces per atom (eV/Å) where the method has gradients. ``[n_sites, 3]``
        stress_ev_per_a3: stress (eV/Å³, Voigt) where available. ``[6]``
        converged: SCF (and, for coupled cluster, CCSD) converged.
        magnetic_moment: total spin moment 2⟨S_z⟩ (μB per cell) of an unrestricted run; 0 restricted.
        descriptors: quantum descriptors (from PBE runs), see ``mfdisco.labeller.descriptors``.
        details: method-specific values (component energies in eV, SCF strategy, cost estimate...).
        wall_time_s: wall time of the calculation.
        versions: software versions (pyscf, numpy, mfdisco).
        error: why a calculation failed or was refused.
    """

    fidelity: Fidelity
    settings: dict[str, Any]
    settings_hash: str
    status: LabelStatus
    energy_ev: float | None = None
    energy_per_atom_ev: float | None = None
    forces_ev_per_a: list[list[float]] | None = None
    stress_ev_per_a3: list[float] | None = None
    converged: bool | None = None
    magnetic_moment: float | None = None
    descriptors: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the calculation finished and gave an energy."""
        return self.status == "done" and self.energy_ev is not None
