"""The ``Generator`` protocol (DESIGN.md), its registry, and the default diffusion backend.

``fit(records, config)`` trains on dataset records (their properties become the condition
vector), ``sample(n, condition)`` returns crystals, ``save``/``load`` keep the model
with its configuration, element table, condition statistics, atom-count distribution and
training-set hash (checkpoints load with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from tqdm.auto import tqdm

from mfdisco.core import Crystal
from mfdisco.core.plugins import load_backend, read_checkpoint, write_checkpoint
from mfdisco.generator.config import GeneratorConfig
from mfdisco.generator.datasets.records import CrystalRecord
from mfdisco.generator.denoiser import Denoiser
from mfdisco.generator.diffusion.joint import JointDiffusion, batch_from_crystals
from mfdisco.generator.sampler import SamplerSettings, sample_crystals

__all__ = ["Generator", "DiffusionGenerator", "GENERATOR_BACKENDS", "generator_backend", "CHECKPOINT_FORMAT"]

logger = logging.getLogger(__name__)

GENERATOR_BACKENDS: dict[str, str] = {"diffcsp": "mfdisco.generator.backend:DiffusionGenerator"}
CHECKPOINT_FORMAT = "mfdisco-generator/1"
#: The sampler bounds the predicted lattice x̂₀ to this multiple of the largest training
#: lattice's Frobenius norm (Å), see :mod:`mfdisco.generator.sampler`.
LATTICE_BOUND_MARGIN = 1.25


@runtime_checkable
class Generator(Protocol):
    """What the active loop needs from a generator."""

    def fit(self, records: Sequence[CrystalRecord], config: GeneratorConfig | None = None) -> None:
        """Train on dataset records."""

    def sample(self, n: int, condition: Mapping[str, float] | None = None) -> list[Crystal]:
        """``n`` crystals (degenerate samples dropped), optionally conditioned."""

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint."""


def generator_backend(name: str) -> type:
    """The class registered as ``name``.

    Raises:
        ValueError: naming the unknown backend and the registered ones.
    """
    return load_backend(GENERATOR_BACKENDS, name, "generator")


class DiffusionGenerator:
    """The default backend: joint lattice/coordinate/type diffusion around a CSPNet-like denoiser."""

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.config = config or GeneratorConfig()
        self.diffusion: JointDiffusion | None = None
        self.elements: list[int] = []
        self.condition_mean = np.zeros(0)
        self.condition_std = np.ones(0)
        self.atom_counts: dict[int, int] = {}
        self.compositions: list[list[int]] = []
        self.training_set_hash = ""
        self.history: list[float] = []

    @property
    def lattice_norm_bound(self) -> float | None:
        """The sampler's bound on the predicted clean lattice (Å, Frobenius norm); None untrained."""
        return None if self.diffusion is None else self.diffusion.lattice_norm_bound

    def fit(
        self, records: Sequence[CrystalRecord], config: GeneratorConfig | None = None, progress: bool = True, time_limit_s: float | None = None,
        warm_start: bool = False,
    ) -> None:
        """Train on ``records`` (their ``config.properties`` form the condition vector).

        ``time_limit_s`` stops training after the epoch that passes it (the learning rate
        is constant, so a shorter run is a prefix of a longer one). ``warm_start``
        fine-tunes the trained network (its element table and condition statistics kept)
        when the records' elements are in its table and the properties are the same;
        otherwise a new network is trained.

        Raises:
            ValueError: no records, or a record without a finite value of a condition property.
        """
        config = config or self.config
        if not records:
            raise ValueError("the generator needs at least one training record")
        crystals = [r.crystal for r in records]
        elements = sorted({int(z) for c in crystals for z in c.atomic_numbers})
        warm = warm_start and self.diffusion is not None and set(elements) <= set(self.elements) and config.properties == self.config.properties
        self.config = config
        torch.manual_seed(config.seed)
        torch.set_num_threads(config.threads)
        if warm:
            mean, std = self.condition_mean, self.condition_std
            conditions = (self._conditions(records) * self.condition_std + self.condition_mean - mean) / std if config.properties else None
            self.condition_mean, self.condition_std = mean, std
        else:
            conditions = self._conditions(records) if config.properties else None
            self.elements = elements
        self.atom_counts = {}
        for crystal in crystals:
            self.atom_counts[crystal.num_sites] = self.atom_counts.get(crystal.num_sites, 0) + 1
        self.compositions = [list(map(int, c.atomic_numbers)) for c in crystals]
        self.training_set_hash = hashlib.sha256("".join(sorted(c.canonical_hash() for c in crystals)).encode()).hexdigest()
        if not warm:
            self.diffusion = self._build()
        self.diffusion.lattice_norm_bound = LATTICE_BOUND_MARGIN * max(float(np.linalg.norm(c.lattice)) for c in crystals)
        self.diffusion.train()
        optimiser = torch.optim.Adam(self.diffusion.parameters(), lr=config.learning_rate)
        rng = np.random.default_rng(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        start = time.perf_counter()
        self.history = []
        for _ in tqdm(range(config.epochs), desc="generator training", disable=not progress, leave=False):
            order = rng.permutation(len(crystals))
            total = 0.0
            for first in range(0, len(order), config.batch_size):
                chosen = order[first : first + config.batch_size]
                batch = batch_from_crystals([crystals[i] for i in chosen], self.elements, None if conditions is None else conditions[chosen])
                loss, _ = self.diffusion.loss(batch, generator)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(chosen)
            self.history.append(total / len(crystals))
            if time_limit_s is not None and time.perf_counter() - start > time_limit_s:
                logger.info("generator training stopped by its time limit after %d epochs", len(self.history))
                break
        logger.info("generator trained on %d crystals in %.0f s, final loss %.4f", len(crystals), time.perf_counter() - start, self.history[-1])

    def _conditions(self, records: Sequence[CrystalRecord]) -> np.ndarray:
        values = np.full((len(records), len(self.config.properties)), np.nan)
        for row, record in enumerate(records):
            for column, name in enumerate(self.config.properties):
                value = record.properties.get(name)
                if isinstance(value, int | float):
                    values[row, column] = float(value)
        bad = [name for column, name in enumerate(self.config.properties) if not np.all(np.isfinite(values[:, column]))]
        if bad:
            raise ValueError(f"condition properties {bad} are missing or not finite in some training records")
        self.condition_mean, std = values.mean(axis=0), values.std(axis=0)
        self.condition_std = np.where(std > 1e-12, std, 1.0)
        return (values - self.condition_mean) / self.condition_std

    def _build(self) -> JointDiffusion:
        config = self.config
        denoiser = Denoiser(len(self.elements), len(config.properties), config.hidden, config.layers, config.fourier_frequencies)
        return JointDiffusion(denoiser, config.diffusion_steps, config.sigma_min, config.sigma_max, config.task, config.condition_dropout)

    def sample(
        self, n: int, condition: Mapping[str, float] | None = None, compositions: Sequence[Sequence[int]] | None = None,
        settings: SamplerSettings | None = None, progress: bool = False,
    ) -> list[Crystal]:
        """``n`` crystals; degenerate samples (singular lattices) are dropped, so fewer may return.

        Args:
            n: how many to sample.
            condition: property name → target value (the training properties); None for unconditional.
            compositions: atomic numbers per crystal for the CSP task (default: training
                compositions drawn at random); for de novo the atom counts are drawn from
                the training distribution.
            settings: sampler settings (default: from the config).

        Raises:
            RuntimeError: the generator is not trained.
            ValueError: unknown condition names, or compositions with unknown elements.
        """
        if self.diffusion is None:
            raise RuntimeError("the generator is not trained: call fit() or load() first")
        config = self.config
        settings = settings or SamplerSettings(config.sample_steps, config.corrector_steps, config.step_lr, config.guidance, config.seed)
        rng = np.random.default_rng(settings.seed)
        if self.diffusion.task == "csp":
            if compositions is None:
                compositions = [self.compositions[i] for i in rng.integers(0, len(self.compositions), size=n)]
            unknown = sorted({int(z) for c in compositions for z in c} - set(self.elements))
            if unknown:
                raise ValueError(f"elements Z={unknown} are not in the generator's element table {self.elements}")
            counts = [len(c) for c in compositions]
        else:
            sizes, weights = zip(*sorted(self.atom_counts.items()), strict=True)
            counts = list(rng.choice(sizes, size=n, p=np.array(weights) / sum(weights)))
            compositions = None
        vector = None
        if condition is not None:
            unknown_names = sorted(set(condition) - set(config.properties))
            if unknown_names or not config.properties:
                raise ValueError(f"unknown condition properties {unknown_names or list(condition)}; the model was trained on {config.properties}")
            raw = np.array([condition.get(name, mean) for name, mean in zip(config.properties, self.condition_mean, strict=True)])
            vector = np.tile((raw - self.condition_mean) / self.condition_std, (len(counts), 1))
        samples = sample_crystals(self.diffusion, counts, self.elements, settings, types=compositions, condition=vector, progress=progress)
        return [c for c in samples if c is not None]

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint (atomically)."""
        if self.diffusion is None:
            raise RuntimeError("the generator is not trained: nothing to save")
        meta: dict[str, Any] = {
            "elements": self.elements,
            "condition_mean": self.condition_mean.tolist(),
            "condition_std": self.condition_std.tolist(),
            "atom_counts": {str(k): v for k, v in self.atom_counts.items()},
            "compositions": self.compositions,
            "training_set_hash": self.training_set_hash,
            "history": self.history,
            "lattice_norm_bound": self.lattice_norm_bound,
        }
        payload = {"format": CHECKPOINT_FORMAT, "config": self.config.model_dump_json(), "meta": json.dumps(meta), "state": self.diffusion.state_dict()}
        return write_checkpoint(payload, path)

    @classmethod
    def load(cls, path: str | Path) -> DiffusionGenerator:
        """Read a checkpoint written by :meth:`save`.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: not a generator checkpoint.
        """
        payload = read_checkpoint(path, CHECKPOINT_FORMAT, "generator")
        generator = cls(GeneratorConfig.model_validate_json(payload["config"]))
        meta = json.loads(payload["meta"])
        generator.elements = meta["elements"]
        generator.condition_mean = np.array(meta["condition_mean"])
        generator.condition_std = np.array(meta["condition_std"])
        generator.atom_counts = {int(k): v for k, v in meta["atom_counts"].items()}
        generator.compositions = meta["compositions"]
        generator.training_set_hash = meta["training_set_hash"]
        generator.history = meta["history"]
        generator.diffusion = generator._build()
        generator.diffusion.load_state_dict(payload["state"])
        generator.diffusion.lattice_norm_bound = meta.get("lattice_norm_bound")  # None in checkpoints from before the bound
        generator.diffusion.eval()
        return generator
