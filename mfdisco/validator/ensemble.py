"""Ensembles of multi-fidelity MACE networks: training, prediction with uncertainty, calibration.

K members are trained from different seeds (``config.seed + k``) and, with
``config.bootstrap``, on bootstrap resamples of the training data drawn within each
fidelity (a fidelity with fewer than ``config.bootstrap_min_labels`` labels is kept whole
in every member). For a structure the ensemble predicts, per fidelity, the mean energy per atom
and the standard deviation over members (ddof = 1), which is the uncertainty the active
loop uses. The standard deviation can be recalibrated per fidelity on validation data
(:mod:`mfdisco.validator.calibration`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mfdisco.core import Crystal, Fidelity, Prediction, formation_energy_per_atom
from mfdisco.validator.calibration import expected_calibration_error
from mfdisco.validator.recalibration import Recalibration, fit_recalibration
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import FIDELITY_ORDER, neighbour_graph
from mfdisco.validator.model import MultiFidelityMACE
from mfdisco.validator.samples import Sample, training_set_hash
from mfdisco.validator.training import evaluate, predict_samples, train_potential

__all__ = ["MaceEnsemble", "train_ensemble", "bootstrap_resample", "formation_energies"]

logger = logging.getLogger(__name__)


@dataclass
class MaceEnsemble:
    """K trained networks sharing one configuration and element table.

    Attributes:
        config: the configuration every member was trained with.
        members: the networks.
        recalibration: per fidelity value, the recalibration of the ensemble std.
        training_set_hash: hash of the training samples (:func:`training_set_hash`).
        training_set_size: number of training samples.
        metrics: validation metrics (per-fidelity MAEs, ECE before and after recalibration).
    """

    config: PotentialConfig
    members: list[MultiFidelityMACE]
    recalibration: dict[str, Recalibration] = field(default_factory=dict)
    training_set_hash: str = ""
    training_set_size: int = 0
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def trained_fidelities(self) -> list[Fidelity]:
        """Fidelities every member was trained at."""
        common = set.intersection(*(set(m.trained_fidelities) for m in self.members))
        return [f for f in FIDELITY_ORDER if f.value in common]

    def predict_samples(self, samples: Sequence[Sample], fidelities: Sequence[Fidelity | str] | None = None, compute_forces: bool = False) -> Prediction:
        """Ensemble mean and std of the energy per atom of ``samples`` at each fidelity.

        Args:
            samples: configurations (labels ignored).
            fidelities: the fidelities to predict (every trained one by default).
            compute_forces: also return the ensemble mean forces.

        Raises:
            ValueError: a fidelity the ensemble was not trained at.
        """
        fidelities = [Fidelity.parse(f) for f in fidelities] if fidelities is not None else self.trained_fidelities
        if not samples:
            empty = np.zeros((0, len(fidelities)))
            return Prediction(tuple(fidelities), empty, empty, np.zeros((len(self.members), 0, len(fidelities))), () if compute_forces else None)
        graphs = [neighbour_graph(s, self.config.r_max) for s in samples]
        n_atoms = np.array([s.num_atoms for s in samples], dtype=float)[:, None]
        energies, forces = [], []
        for member in self.members:
            total, member_forces = predict_samples(member, samples, fidelities, compute_forces=compute_forces, graphs=graphs)
            energies.append(total / n_atoms)
            if member_forces is not None:
                forces.append(np.stack(member_forces))  # [F, n_atoms_total, 3]
        members = np.stack(energies)  # [K, N, F] eV/atom
        std = members.std(axis=0, ddof=1) if len(self.members) > 1 else np.zeros(members.shape[1:])
        for column, fidelity in enumerate(fidelities):
            if fidelity.value in self.recalibration:
                std[:, column] = self.recalibration[fidelity.value].apply(np.maximum(std[:, column], 1e-12))
        per_structure = None
        if compute_forces:
            mean_forces = np.mean(forces, axis=0)  # [F, n_atoms_total, 3]
            bounds = np.concatenate([[0], np.cumsum([s.num_atoms for s in samples])])
            per_structure = tuple(mean_forces[:, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        return Prediction(tuple(fidelities), members.mean(axis=0), std, members, per_structure)

    def predict(self, crystals: Sequence[Crystal], fidelities: Sequence[Fidelity | str] | None = None, compute_forces: bool = False) -> Prediction:
        """:meth:`predict_samples` for crystals (the ``Potential`` protocol's call)."""
        return self.predict_samples([Sample.from_crystal(c, Fidelity.PBE) for c in crystals], fidelities, compute_forces)

    def calibrate(self, samples: Sequence[Sample], kind: str = "scalar") -> dict[str, dict[str, float]]:
        """Fit a recalibration per fidelity on labelled ``samples`` and record the ECE before and after.

        Returns:
            ``{fidelity: {"ece_before", "ece_after", "n"}}`` on ``samples`` themselves
            (evaluate on other held-out data for an unbiased figure).
        """
        report: dict[str, dict[str, float]] = {}
        self.recalibration = {}
        for fidelity in self.trained_fidelities:
            chosen = [s for s in samples if s.fidelity == fidelity and s.energy_ev is not None]
            if len(chosen) < 2 or len(self.members) < 2:
                continue
            prediction = self.predict_samples(chosen, [fidelity])
            target = np.array([s.energy_ev / s.num_atoms for s in chosen])
            mean, std = prediction.energy_per_atom[:, 0], np.maximum(prediction.energy_per_atom_std[:, 0], 1e-9)
            before = expected_calibration_error(mean, std, target)
            self.recalibration[fidelity.value] = fit_recalibration(kind, mean, std, target)
            after = expected_calibration_error(mean, self.recalibration[fidelity.value].apply(std), target)
            report[fidelity.value] = {"ece_before": before, "ece_after": after, "n": float(len(chosen))}
        return report

    def evaluate(self, samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
        """MAE per fidelity of the ensemble mean and the ECE of its (recalibrated) std on labelled ``samples``."""
        report: dict[str, dict[str, float]] = {}
        for fidelity in self.trained_fidelities:
            chosen = [s for s in samples if s.fidelity == fidelity and s.energy_ev is not None]
            if not chosen:
                continue
            prediction = self.predict_samples(chosen, [fidelity])
            target = np.array([s.energy_ev / s.num_atoms for s in chosen])
            mean, std = prediction.energy_per_atom[:, 0], prediction.energy_per_atom_std[:, 0]
            entry = {"n": float(len(chosen)), "energy_mae_mev_per_atom": float(np.mean(np.abs(mean - target)) * 1000)}
            if len(self.members) > 1:
                entry["ece"] = expected_calibration_error(mean, np.maximum(std, 1e-9), target)
            report[fidelity.value] = entry
        return report

    def formation_energy_per_atom(
        self, crystals: Sequence[Crystal], reference_energy_per_atom: Mapping[str, Mapping[str, float]], fidelities: Sequence[Fidelity | str] | None = None
    ) -> tuple[tuple[Fidelity, ...], np.ndarray]:
        """Predicted ΔE_f (eV/atom) = E/N − Σ_e x_e μ_e,f with μ the references at each fidelity.

        Args:
            crystals: the structures.
            reference_energy_per_atom: ``{fidelity: {element: μ (eV/atom)}}``, the elemental
                references at the same fidelity (labelled or predicted).
            fidelities: the fidelities (every trained one by default).

        Returns:
            The fidelities and a [N, F] array of formation energies per atom.

        Raises:
            KeyError: naming a fidelity or element without a reference energy.
        """
        prediction = self.predict(crystals, fidelities)
        return prediction.fidelities, formation_energies(crystals, prediction.energy_per_atom, prediction.fidelities, reference_energy_per_atom)


def formation_energies(
    crystals: Sequence[Crystal], energy_per_atom: np.ndarray, fidelities: Sequence[Fidelity], reference_energy_per_atom: Mapping[str, Mapping[str, float]]
) -> np.ndarray:
    """ΔE_f (eV/atom) = E/N − Σ_e x_e μ_e,f of predicted energies per atom.

    Args:
        crystals: the structures.
        energy_per_atom: [N, F] predicted energies per atom (eV/atom), a column per fidelity.
        fidelities: the F fidelities of the columns.
        reference_energy_per_atom: ``{fidelity: {element: μ (eV/atom)}}``.

    Returns:
        [N, F] formation energies per atom.

    Raises:
        KeyError: naming a fidelity or element without a reference energy.
    """
    formation = np.array(energy_per_atom, dtype=float)
    for column, fidelity in enumerate(fidelities):
        if fidelity.value not in reference_energy_per_atom:
            raise KeyError(f"no reference energies at fidelity {fidelity.value!r}")
        mu = reference_energy_per_atom[fidelity.value]
        for row, crystal in enumerate(crystals):
            try:
                formation[row, column] = formation_energy_per_atom(crystal, formation[row, column], mu)
            except KeyError as error:
                raise KeyError(f"{fidelity.value}: {error.args[0]}") from None
    return formation


def bootstrap_resample(samples: Sequence[Sample], rng: np.random.Generator, min_labels: int = 1) -> list[Sample]:
    """A bootstrap resample drawn within each fidelity (each keeps its count).

    Args:
        samples: the training samples.
        rng: random generator.
        min_labels: a fidelity with fewer samples than this is kept whole, not resampled
            (``PotentialConfig.bootstrap_min_labels``).
    """
    resampled: list[Sample] = []
    for fidelity in FIDELITY_ORDER:
        group = [s for s in samples if s.fidelity == fidelity]
        if len(group) < min_labels:  # too few to resample (an absent fidelity adds nothing)
            resampled += group
        else:
            resampled += [group[i] for i in rng.integers(0, len(group), size=len(group))]
    return resampled


def train_ensemble(
    train: Sequence[Sample],
    config: PotentialConfig,
    valid: Sequence[Sample] = (),
    recalibration: str | None = "scalar",
    progress: bool = True,
) -> MaceEnsemble:
    """Train ``config.ensemble_size`` members and, with validation data, calibrate the ensemble.

    Args:
        train: labelled training samples.
        config: configuration of every member.
        valid: held-out samples for model selection, metrics and the recalibration fit.
        recalibration: ``scalar``, ``isotonic`` or None.
        progress: show progress bars.
    """
    elements = sorted({int(z) for s in (*train, *valid) for z in s.atomic_numbers})
    rng = np.random.default_rng(config.seed)
    members = []
    for k in range(config.ensemble_size):
        data = bootstrap_resample(train, rng, config.bootstrap_min_labels) if config.bootstrap and config.ensemble_size > 1 else list(train)
        result = train_potential(data, config, valid, seed=config.seed + k, elements=elements, progress=progress, reference_samples=train)
        logger.info("ensemble member %d/%d trained in %.0f s: %s", k + 1, config.ensemble_size, result.wall_time_s, result.metrics)
        members.append(result.model)
    ensemble = MaceEnsemble(config=config, members=members, training_set_hash=training_set_hash(train), training_set_size=len(train))
    if valid:
        ensemble.metrics = {f"valid_member0_{f}": v for f, v in evaluate(members[0], valid).items()}
        if recalibration is not None:
            ensemble.metrics.update({f"calibration_{f}": v for f, v in ensemble.calibrate(valid, recalibration).items()})
        ensemble.metrics.update({f"valid_{f}": v for f, v in ensemble.evaluate(valid).items()})
    return ensemble
