"""The validator's configuration: MACE architecture, multi-fidelity loss, schedule, ensemble.

One pydantic model, validated at construction, saved next to every checkpoint and in
the ``models`` row, so a checkpoint rebuilds exactly the network that was trained.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mfdisco.core import Fidelity

__all__ = ["PotentialConfig", "DEFAULT_LOSS_WEIGHTS", "SCHEDULES"]

DEFAULT_LOSS_WEIGHTS: dict[str, float] = {"ccsd_t": 1.0, "hse06": 0.5, "scan": 0.3, "pbe": 0.1}

#: Training stages of each schedule: each stage trains on the fidelities it lists,
#: starting from the weights the previous stage ended with.
SCHEDULES: dict[str, tuple[tuple[Fidelity, ...], ...]] = {
    "joint": ((Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06, Fidelity.CCSD_T),),
    "progressive": (
        (Fidelity.PBE,),
        (Fidelity.PBE, Fidelity.SCAN),
        (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06),
        (Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06, Fidelity.CCSD_T),
    ),
    "transfer": ((Fidelity.PBE,), (Fidelity.PBE, Fidelity.CCSD_T)),
}


class PotentialConfig(BaseModel):
    """Architecture and training of the multi-fidelity MACE potential.

    Architecture (mace-torch ``ScaleShiftMACE``; one readout head per fidelity and a
    learned per-fidelity embedding added to the initial node features through MACE's
    categorical joint embedding):

    Attributes:
        r_max: radial cutoff of the atomic environment (Å).
        num_channels: scalar channels of the hidden node features.
        max_l: highest angular momentum of the hidden features (``Nx0e + Nx1o`` for 1).
        max_ell: highest spherical harmonic of the edge attributes.
        correlation: body order of the symmetric contraction minus one.
        num_interactions: message-passing layers.
        num_bessel: radial Bessel basis functions.
        num_polynomial_cutoff: order of the polynomial envelope.
        radial_mlp: hidden sizes of the radial MLP.
        mlp_irreps_per_head: hidden scalars of each head's non-linear readout.
        fidelity_embedding_dim: width of the learned fidelity embedding.
        dtype: ``float64`` (exact physics checks) or ``float32`` (faster on CPU).

    Training:
        loss_weights: weight of each fidelity's loss term (DESIGN.md: CCSD(T) 1.0 ... PBE 0.1).
        energy_weight, forces_weight: weights of the per-atom energy (eV/atom)² and
            force (eV/Å)² terms.
        schedule: ``joint``, ``progressive`` (PBE → SCAN → HSE06 → CCSD(T), each stage
            keeping the fidelities before it) or ``transfer`` (PBE, then PBE + CCSD(T)).
        stop_gradient: a fidelity's own parameters (its embedding row, its readout
            channels) are changed only by steps whose batch holds labels of that
            fidelity, so low-fidelity data cannot move the high-fidelity head.
        delta_to_pbe: Δ-learning. Every fidelity f other than PBE is predicted as the PBE
            head's prediction plus f's own head, read as a correction:
            ``E_f = E_pbe + ΔE_f`` (forces and stress likewise). The PBE part enters
            detached, so labels of f train only the correction (and the shared backbone
            through it), and a composition that has no label at f falls back on PBE plus
            the correction learnt elsewhere instead of an untrained head. The correction
            head's reference energies ΔE0_f, scale and shift are fitted on the differences
            ``E_f − E_pbe`` of the structures labelled at both.
        epochs: epochs in all (split evenly over the schedule's stages).
        batch_size: structures per optimiser step.
        learning_rate: Adam (AMSGrad) learning rate, decayed by cosine to 1 % over training.
        weight_decay: L2 penalty of the optimiser (0 keeps untouched parameters still).
        ensemble_size: independently trained members (seeds ``seed + k``).
        bootstrap: members train on bootstrap resamples (per fidelity) of the data.
        bootstrap_min_labels: a fidelity with fewer labels than this is not resampled:
            every member keeps all of them (the members still differ by seed and by the
            resamples of the larger fidelities). A bootstrap resample of n labels misses
            a given one with probability (1 − 1/n)ⁿ ≈ 37 %; with one CCSD(T) label per
            composition, a member that misses it never sees that composition at that
            fidelity and extrapolates its head (measured in the multi-fidelity benchmark,
            9 CCSD(T) labels, joint training: one member 23 eV/atom off on rocksalt CaO,
            the ensemble mean 6.3 eV/atom).
        seed: base random seed.
        threads: torch intra-op threads.
        device: torch device the networks train on: ``cpu`` (default), ``cuda`` or
            ``cuda:N``. A trained network is handed back on the CPU, so checkpoints, Ray
            results and the active loop's predictions do not depend on where it trained;
            :func:`~mfdisco.validator.training.predict_samples` runs on whatever device
            the network is on. In a campaign the training task then asks Ray for one GPU
            (:attr:`gpus`); use ``cuda`` there, since Ray shows the task only its GPU.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    r_max: float = Field(5.0, gt=0.5, le=12.0)
    num_channels: int = Field(32, ge=4)
    max_l: int = Field(1, ge=0, le=3)
    max_ell: int = Field(3, ge=1, le=4)
    correlation: int = Field(3, ge=1, le=4)
    num_interactions: int = Field(2, ge=1, le=4)
    num_bessel: int = Field(8, ge=2)
    num_polynomial_cutoff: int = Field(5, ge=2)
    radial_mlp: list[int] = Field(default_factory=lambda: [32, 32, 32])
    mlp_irreps_per_head: int = Field(16, ge=1)
    fidelity_embedding_dim: int = Field(16, ge=1)
    dtype: Literal["float64", "float32"] = "float64"

    loss_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LOSS_WEIGHTS))
    energy_weight: float = Field(1.0, ge=0)
    forces_weight: float = Field(10.0, ge=0)
    schedule: Literal["joint", "progressive", "transfer"] = "joint"
    stop_gradient: bool = False
    delta_to_pbe: bool = False
    epochs: int = Field(200, ge=1)
    batch_size: int = Field(8, ge=1)
    learning_rate: float = Field(5e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    ensemble_size: int = Field(4, ge=1)
    bootstrap: bool = True
    bootstrap_min_labels: int = Field(50, ge=1)
    seed: int = 0
    threads: int = Field(2, ge=1)
    device: str = "cpu"

    @field_validator("loss_weights")
    @classmethod
    def _known_fidelities(cls, value: dict[str, float]) -> dict[str, float]:
        weights = {Fidelity.parse(name).value: float(weight) for name, weight in value.items()}
        negative = [name for name, weight in weights.items() if weight < 0]
        if negative:
            raise ValueError(f"loss_weights must be >= 0; negative for {', '.join(negative)}")
        return {f.value: weights.get(f.value, DEFAULT_LOSS_WEIGHTS[f.value]) for f in Fidelity}

    @field_validator("radial_mlp")
    @classmethod
    def _positive_sizes(cls, value: list[int]) -> list[int]:
        if not value or any(size < 1 for size in value):
            raise ValueError(f"radial_mlp must be a non-empty list of positive sizes, got {value}")
        return value

    @field_validator("device")
    @classmethod
    def _device_name(cls, value: str) -> str:
        if not re.fullmatch(r"cpu|cuda(:\d+)?", value):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {value!r}")
        return value

    @property
    def gpus(self) -> int:
        """GPUs a training task asks Ray for: 1 on a CUDA device, else 0."""
        return 0 if self.device == "cpu" else 1

    def loss_weight(self, fidelity: Fidelity | str) -> float:
        """The loss weight of ``fidelity``."""
        return self.loss_weights[Fidelity.parse(fidelity).value]

    def stages(self) -> tuple[tuple[Fidelity, ...], ...]:
        """The fidelities trained in each stage of the schedule."""
        return SCHEDULES[self.schedule]
