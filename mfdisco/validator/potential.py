"""The ``Potential`` protocol (DESIGN.md) and the registry of potential backends.

The active loop talks to a potential only through this protocol: ``fit`` on labelled
samples, ``predict`` energies per atom with ensemble mean and std for crystals at
several fidelities, an ASE ``calculator`` for relaxations, ``save`` and ``load``.
Backends register as ``name -> "module:Class"`` and are imported on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ase.calculators.calculator import Calculator

from mfdisco.core import Crystal, Fidelity, Prediction
from mfdisco.core.plugins import load_backend
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.samples import Sample

__all__ = ["Potential", "MacePotential", "POTENTIAL_BACKENDS", "potential_backend"]

POTENTIAL_BACKENDS: dict[str, str] = {"mace": "mfdisco.validator.potential:MacePotential"}


@runtime_checkable
class Potential(Protocol):
    """What the active loop needs from a potential."""

    def fit(self, train: Sequence[Sample], valid: Sequence[Sample] = ()) -> None:
        """Train on labelled samples (held-out ``valid`` for selection and calibration)."""

    def predict(self, crystals: Sequence[Crystal], fidelities: Sequence[Fidelity | str] | None = None) -> Prediction:
        """Energy per atom (eV/atom) with ensemble mean and std at each fidelity."""

    def calculator(self, fidelity: Fidelity | str) -> Calculator:
        """An ASE calculator at ``fidelity``."""

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint."""


def potential_backend(name: str) -> type:
    """The class registered as ``name``.

    Raises:
        ValueError: naming the unknown backend and the registered ones.
    """
    return load_backend(POTENTIAL_BACKENDS, name, "potential")


class MacePotential:
    """The default backend: an ensemble of multi-fidelity MACE networks.

    Args:
        config: architecture and training settings.
    """

    def __init__(self, config: PotentialConfig | None = None) -> None:
        self.config = config or PotentialConfig()
        self.ensemble = None

    def fit(self, train: Sequence[Sample], valid: Sequence[Sample] = (), recalibration: str | None = "scalar", progress: bool = True) -> None:
        from mfdisco.validator.ensemble import train_ensemble

        self.ensemble = train_ensemble(train, self.config, valid, recalibration=recalibration, progress=progress)

    def _trained(self):  # noqa: ANN202 - MaceEnsemble
        if self.ensemble is None:
            raise RuntimeError("the potential is not trained: call fit() or load() first")
        return self.ensemble

    def predict(self, crystals: Sequence[Crystal], fidelities: Sequence[Fidelity | str] | None = None) -> Prediction:
        return self._trained().predict(crystals, fidelities)

    def calculator(self, fidelity: Fidelity | str = Fidelity.PBE) -> Calculator:
        from mfdisco.validator.calculator import MaceEnsembleCalculator

        return MaceEnsembleCalculator(self._trained(), fidelity)

    def save(self, path: str | Path) -> Path:
        from mfdisco.validator.checkpoint import save_ensemble

        return save_ensemble(self._trained(), path)

    @classmethod
    def load(cls, path: str | Path) -> MacePotential:
        from mfdisco.validator.checkpoint import load_ensemble

        ensemble = load_ensemble(path)
        potential = cls(ensemble.config)
        potential.ensemble = ensemble
        return potential
