"""The heavy steps of a cycle as pure functions of plain values and checkpoint paths.

Each becomes a Ray task without change (the campaign runner wraps them with
``ray.remote(num_cpus=..., max_retries=...)``); each sets its own thread count, because
Ray reuses worker processes and does not reset it. Models travel as checkpoint files,
structures as ``Crystal`` values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfdisco.core import Crystal, Fidelity, formation_energy_per_atom

__all__ = [
    "ScoredCandidate",
    "train_validator",
    "train_proxy",
    "train_generator",
    "propose_candidates",
    "relax_and_predict",
]

logger = logging.getLogger(__name__)


def _threads(n: int) -> None:
    """Set torch's threads in this (possibly reused) worker and silence library warnings
    (e3nn's and torch's deprecation notes would flood the driver's console through Ray)."""
    import warnings

    import torch

    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    torch.set_num_threads(max(1, n))


def train_validator(train: Sequence[Any], valid: Sequence[Any], config_json: str, out_path: str, threads: int = 1) -> str:
    """Train and calibrate the validator ensemble on ``Sample`` lists; returns the checkpoint path."""
    import mace  # noqa: F401 - imported before e3nn (it sets torch.load's safe globals)

    from mfdisco.validator.checkpoint import save_ensemble
    from mfdisco.validator.config import PotentialConfig
    from mfdisco.validator.ensemble import train_ensemble

    _threads(threads)
    config = PotentialConfig.model_validate_json(config_json).model_copy(update={"threads": threads})
    ensemble = train_ensemble(list(train), config, list(valid), progress=False)
    return str(save_ensemble(ensemble, out_path))


def train_proxy(crystals: Sequence[Crystal], targets: np.ndarray, names: Sequence[str], epochs: int, seed: int, out_path: str, threads: int = 1) -> str:
    """Train the descriptor proxy (q from a structure); returns the checkpoint path."""
    from mfdisco.generator.proxy import fit_proxy, save_proxy

    _threads(threads)
    model = fit_proxy(list(crystals), np.asarray(targets), epochs=epochs, seed=seed, progress=False)
    return str(save_proxy(model, names, out_path))


def train_generator(
    records: Sequence[Any], config_json: str, time_limit_s: float, out_path: str, start_from: str | None = None, threads: int = 1
) -> tuple[str, dict[str, Any]]:
    """Train (or, from ``start_from``, fine-tune) the generator; returns the path and a summary."""
    from mfdisco.generator.backend import DiffusionGenerator
    from mfdisco.generator.config import GeneratorConfig

    _threads(threads)
    config = GeneratorConfig.model_validate_json(config_json).model_copy(update={"threads": threads})
    generator = DiffusionGenerator.load(start_from) if start_from else DiffusionGenerator(config)
    generator.fit(list(records), config, progress=False, time_limit_s=time_limit_s, warm_start=start_from is not None)
    path = generator.save(out_path)
    return str(path), {"epochs": len(generator.history), "final_loss": generator.history[-1], "training_set_hash": generator.training_set_hash, "records": len(records)}


def propose_candidates(
    generator_path: str, compositions: Sequence[Sequence[int]], condition: Mapping[str, float] | None, guidance: float, seed: int, threads: int = 1
) -> list[Crystal]:
    """Sample one structure per composition (the generator's CSP task), optionally conditioned on q."""
    from mfdisco.generator.backend import DiffusionGenerator
    from mfdisco.generator.sampler import SamplerSettings

    _threads(threads)
    generator = DiffusionGenerator.load(generator_path)
    config = generator.config
    settings = SamplerSettings(config.sample_steps, config.corrector_steps, config.step_lr, guidance, seed)
    known = set(generator.elements)
    usable = [list(c) for c in compositions if set(c) <= known]
    return generator.sample(len(usable), condition=condition, compositions=usable, settings=settings)


@dataclass(frozen=True)
class ScoredCandidate:
    """A candidate after relaxation at the PBE head and prediction at every fidelity (eV/atom).

    Attributes:
        crystal: the relaxed structure (the input when the relaxation broke it).
        relax_steps: FIRE steps taken.
        relaxed: the relaxation was kept.
        energy_per_atom: fidelity → ensemble mean energy per atom.
        std_per_atom: fidelity → ensemble std (recalibrated).
        formation_per_atom: fidelity → predicted ΔE_f (None where a reference is missing).
    """

    crystal: Crystal
    relax_steps: int
    relaxed: bool
    energy_per_atom: dict[str, float]
    std_per_atom: dict[str, float]
    formation_per_atom: dict[str, float | None]


def relax_and_predict(
    validator_path: str,
    crystals: Sequence[Crystal],
    reference_mu: Mapping[str, Mapping[str, float]],
    relax_steps: int,
    threads: int = 1,
    max_volume_change: float = 1.5,
) -> list[ScoredCandidate]:
    """Relax each candidate with the validator's PBE head, then predict all its fidelities.

    Args:
        validator_path: ensemble checkpoint.
        crystals: candidates.
        reference_mu: fidelity → element → μ (eV/atom) of the elemental references.
        relax_steps: FIRE steps (positions and cell) on the first ensemble member (K times
            cheaper than the mean); 0 skips relaxation. A relaxation that makes the structure
            invalid (atoms closer than 0.5 Å) or changes its volume by more than
            ``max_volume_change`` either way is discarded: the candidate is scored as given.
        threads: torch threads.
        max_volume_change: see :func:`~mfdisco.active_loop.volumes.relaxation_accepted`.
    """
    import mace  # noqa: F401 - before e3nn

    from mfdisco.active_loop.volumes import relaxation_accepted
    from mfdisco.core.validity import is_structurally_valid
    from mfdisco.validator.checkpoint import load_ensemble
    from mfdisco.validator.relax import relax

    _threads(threads)
    ensemble = load_ensemble(validator_path)
    relaxed: list[tuple[Crystal, int, bool]] = []
    for crystal in crystals:
        if relax_steps > 0:
            try:
                result = relax(crystal, ensemble, Fidelity.PBE, max_steps=relax_steps, members=1)
                ok = is_structurally_valid(result.crystal) and relaxation_accepted(crystal, result.crystal, max_volume_change)
                relaxed.append((result.crystal, result.steps, True) if ok else (crystal, result.steps, False))
            except Exception as error:  # noqa: BLE001 - a numerical failure of one candidate keeps it unrelaxed
                logger.warning("relaxation failed (%s); the candidate stays unrelaxed", error)
                relaxed.append((crystal, 0, False))
        else:
            relaxed.append((crystal, 0, False))
    prediction = ensemble.predict([c for c, _, _ in relaxed])
    scored = []
    for row, (crystal, steps, kept) in enumerate(relaxed):
        energies = {f.value: float(prediction.energy_per_atom[row, k]) for k, f in enumerate(prediction.fidelities)}
        stds = {f.value: float(prediction.energy_per_atom_std[row, k]) for k, f in enumerate(prediction.fidelities)}
        formation = {fidelity: _formation_or_none(crystal, energy, reference_mu.get(fidelity, {})) for fidelity, energy in energies.items()}
        scored.append(ScoredCandidate(crystal, steps, kept, energies, stds, formation))
    return scored


def _formation_or_none(crystal: Crystal, energy_per_atom: float, mu: Mapping[str, float]) -> float | None:
    """ΔE_f (eV/atom), or None when an element has no reference energy at that fidelity."""
    try:
        return formation_energy_per_atom(crystal, energy_per_atom, mu)
    except KeyError:
        return None
