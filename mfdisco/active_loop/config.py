"""The campaign's configuration: what to sample, how to score and select, when to stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mfdisco.core import Fidelity, element_symbols
from mfdisco.generator.config import GeneratorConfig
from mfdisco.validator.config import PotentialConfig

__all__ = ["CampaignConfig", "DEFAULT_POOL_FILE", "DEFAULT_QUANTUM_DESCRIPTORS"]

#: The labeller's committed reference pool (``benchmarks/pool``) next to the package.
DEFAULT_POOL_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "pool" / "pool_labels.json.gz"
#: The condition vector q = [q_DOS, q_ELF, q_response] (see ``mfdisco.generator.conditioning``).
DEFAULT_QUANTUM_DESCRIPTORS = ("q_gap_ev", "q_dos_fermi", "q_elf_mean", "q_screening")
#: The campaign's potential: retrained every cycle on 2 cores, so small. Δ-learning
#: (CCSD(T) as PBE plus a correction): with 3 CCSD(T) labels it cut the CCSD(T) error of
#: unseen compositions 6-15× in the multi-fidelity benchmark, and the campaign's
#: candidates are new compositions with few CCSD(T) labels (README, Potential).
SMALL_VALIDATOR: dict[str, Any] = {
    "num_channels": 16, "max_l": 0, "correlation": 2, "num_interactions": 1, "radial_mlp": [16, 16],
    "epochs": 60, "ensemble_size": 4, "dtype": "float32", "forces_weight": 1.0, "delta_to_pbe": True,
}
#: The campaign's generator: small denoiser, fast sampler (100 steps x 2 = 200 network evaluations).
SMALL_GENERATOR: dict[str, Any] = {"hidden": 64, "layers": 3, "sample_steps": 100, "corrector_steps": 1, "batch_size": 32}


class CampaignConfig(BaseModel):
    """One active-learning campaign (``campaign:`` section of the config).

    Chemical space and candidates:
        elements: the elements candidates are made of (the default campaign: Mg-O).
        min_atoms, max_atoms: atoms per candidate cell. The default 2 keeps 3 cycles within
            15 minutes on 2 cores (measured: with 3, MgO₂ candidates took 5-8 minutes per cycle).
        n_candidates: structures sampled per cycle.
        relax_steps: FIRE steps of the validator's PBE head per candidate (0: no relaxation).
        min_contact_ratio: a relaxed candidate with two atoms closer than this times the sum
            of their covalent radii is dropped before scoring (0: no screen). 0.7 keeps the
            shortest real bonds (metal-oxo, V=O in V₂O₅ at 0.72) and drops the compressed
            cells an early generator proposes, which cost the SCF ladder minutes each.
        max_relax_volume_change: a relaxation that changes the cell volume by more than this
            factor either way is discarded and the candidate is scored as generated, at the
            volume its composition has in known compounds (see
            :func:`mfdisco.active_loop.volumes.relaxation_accepted`).

    Scores and selection (DESIGN.md):
        divergence: ``abs`` D = |ΔE_f,pbe − ΔE_f,ccsd_t| (eV/atom) or ``rel`` D / (|ΔE_f,ccsd_t| + 0.1 eV/atom).
        uncertainty: ``diversity`` (fingerprint distance to everything labelled) or ``ensemble_std``.
        weight_divergence, weight_uncertainty: S = w_D D' + w_U U' after min-max normalisation.
        k_select: candidates labelled per cycle.
        min_fingerprint_distance: the batch selection skips a candidate closer than this to
            one already chosen in the cycle (fingerprint units), so k near-duplicates are never picked.
        stability_window_ev_per_atom: when set, in selection mode the candidates whose
            optimistic predicted CCSD(T) hull distance (E_hull − z σ, eV/atom, against the
            labelled CCSD(T) hull) is within this window are selected before all others, S
            ordering each group (None: S alone, the default). Every candidate's predicted
            E_hull is stored either way (``candidates.predictions -> 'ccsd_t' -> 'e_hull'``).
        stability_window_z: z of the window, in ensemble standard deviations.
        ece_gate: selection by S waits until the validator's held-out CCSD(T) ECE is at or
            below this; before that the cycle labels a diverse bootstrap batch (by U only).
        guidance: classifier-free guidance λ of the generator's conditioning.

    Labels:
        fidelities: fidelities labelled for each selected candidate (PBE and CCSD(T) always).
        label_timeout_s: wall-clock limit of each candidate label (s); a label that runs
            longer is recorded as failed (the limit is not part of the settings hash).

    Cadence and stopping:
        max_cycles: cycles at most.
        patience: stop after this many consecutive cycles without a discovery.
        ccsd_t_budget: CCSD(T) calculations the campaign may spend (selected × 1).
        generator_every: fine-tune the generator on the database every this many cycles.
        hit_threshold_ev_per_atom: a discovery has e_above_hull(ccsd_t) at or below this.
        novelty_warning: the metallicity-trap signature fires below this novelty.

    Models:
        validator: changes to the ``validator:`` section for the campaign's potential (small
            and fast by default: it is retrained every cycle).
        generator: changes to the ``generator:`` section for the campaign's generator (its
            ``properties`` are always the quantum descriptors, its task CSP).
        generator_time_s: wall-clock limit of the generator's initial training (s).
        generator_finetune_time_s: limit of each fine-tuning (s).
        generator_max_atoms: training structures of the generator have at most this many atoms.
        quantum_descriptors: the names of q, in order.
        proxy_epochs: training epochs of the descriptor proxy.
        validation_fraction: share of labelled structures held out to calibrate the validator.
        pool_file: the reference pool's labels, imported at campaign start (None: none).
        work_dir: where model checkpoints are written (one folder per campaign).
        seed: seed of sampling, splits and selection.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    elements: list[str] = Field(default_factory=lambda: ["Mg", "O"], min_length=1)
    min_atoms: int = Field(2, ge=1)
    max_atoms: int = Field(2, ge=1, le=20)
    n_candidates: int = Field(32, ge=1)
    relax_steps: int = Field(20, ge=0)
    min_contact_ratio: float = Field(0.7, ge=0, le=1.0)
    max_relax_volume_change: float = Field(1.5, ge=1.0)

    divergence: Literal["abs", "rel"] = "abs"
    uncertainty: Literal["diversity", "ensemble_std"] = "diversity"
    weight_divergence: float = Field(0.7, ge=0)
    weight_uncertainty: float = Field(0.3, ge=0)
    k_select: int = Field(2, ge=1)
    min_fingerprint_distance: float = Field(0.05, ge=0)
    stability_window_ev_per_atom: float | None = Field(None, ge=0)
    stability_window_z: float = Field(1.0, ge=0)
    ece_gate: float = Field(0.1, gt=0, le=1)
    guidance: float = Field(0.3, ge=0)

    fidelities: list[Fidelity] = Field(default_factory=lambda: [Fidelity.PBE, Fidelity.CCSD_T])
    label_timeout_s: float = Field(240.0, gt=0)

    max_cycles: int = Field(3, ge=1)
    patience: int = Field(3, ge=1)
    ccsd_t_budget: int = Field(50, ge=1)
    generator_every: int = Field(5, ge=1)
    hit_threshold_ev_per_atom: float = Field(0.1, ge=0)
    novelty_warning: float = Field(0.7, ge=0, le=1)

    validator: dict[str, Any] = Field(default_factory=lambda: dict(SMALL_VALIDATOR))
    generator: dict[str, Any] = Field(default_factory=lambda: dict(SMALL_GENERATOR))
    generator_time_s: float = Field(60.0, gt=0)
    generator_finetune_time_s: float = Field(30.0, gt=0)
    generator_max_atoms: int = Field(8, ge=1)
    quantum_descriptors: list[str] = Field(default_factory=lambda: list(DEFAULT_QUANTUM_DESCRIPTORS))
    proxy_epochs: int = Field(150, ge=1)
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    pool_file: Path | None = DEFAULT_POOL_FILE
    work_dir: Path = Path("mfdisco_runs")
    seed: int = 0

    @field_validator("elements", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        return sorted(set(element_symbols(value))) if isinstance(value, str | list | tuple) else value

    @field_validator("fidelities")
    @classmethod
    def _pbe_and_ccsd_t(cls, value: list[Fidelity]) -> list[Fidelity]:
        chosen = {Fidelity.parse(f) for f in value} | {Fidelity.PBE, Fidelity.CCSD_T}
        return sorted(chosen, key=lambda f: f.rank)

    @field_validator("quantum_descriptors")
    @classmethod
    def _known_descriptors(cls, value: list[str]) -> list[str]:
        from mfdisco.generator.conditioning import QUANTUM_DESCRIPTORS

        unknown = [name for name in value if name not in QUANTUM_DESCRIPTORS]
        if unknown:
            raise ValueError(f"unknown quantum descriptors {unknown}; known: {sorted(QUANTUM_DESCRIPTORS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CampaignConfig:
        if self.min_atoms > self.max_atoms:
            raise ValueError(f"min_atoms ({self.min_atoms}) is above max_atoms ({self.max_atoms})")
        if self.weight_divergence + self.weight_uncertainty <= 0:
            raise ValueError("weight_divergence + weight_uncertainty must be positive")
        for section, model, changes in (("validator", PotentialConfig, self.validator), ("generator", GeneratorConfig, self.generator)):
            try:
                model(**changes)
            except ValueError as error:
                raise ValueError(f"campaign.{section}: {error}") from None
        return self

    def potential_config(self, base: PotentialConfig) -> PotentialConfig:
        """The ``validator:`` section with this campaign's changes."""
        return type(base)(**{**base.model_dump(), **self.validator})

    def generator_config(self, base: GeneratorConfig) -> GeneratorConfig:
        """The ``generator:`` section with this campaign's changes; CSP task conditioned on q."""
        return type(base)(**{**base.model_dump(), **self.generator, "task": "csp", "properties": list(self.quantum_descriptors), "guidance": self.guidance})
