"""Training one multi-fidelity MACE network: reference energies, schedule, optimiser, evaluation.

``train_potential`` is a pure function of its inputs (samples, config, seed): it can run
as a Ray task unchanged. The heavy loop is plain PyTorch (Adam with AMSGrad, cosine
learning-rate decay, best-validation weights kept).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from mfdisco.core import Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.graph import FIDELITY_ORDER, NeighbourGraph, collate, neighbour_graph
from mfdisco.validator.loss import multi_fidelity_loss
from mfdisco.validator.model import BASE_HEAD, MultiFidelityMACE
from mfdisco.validator.samples import Sample

__all__ = ["TrainingResult", "train_potential", "training_device", "training_step", "fit_reference_energies", "predict_samples", "evaluate", "build_model"]

logger = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    """A trained network, its learning curve and its validation metrics.

    ``history`` has one record per epoch: ``stage``, ``epoch``, ``train_loss``,
    ``valid_loss`` (with validation data) and ``elapsed_s``, the wall time since the
    training started (graph building included).
    """

    model: MultiFidelityMACE
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_time_s: float = 0.0


def fit_reference_energies(
    samples: Sequence[Sample], elements: Sequence[int], delta_to_pbe: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Per-fidelity atomic reference energies E0, and scale and shift of the interaction energy.

    E0_f solves min Σ_g (E_g − Σ_Z n_gZ E0_f(Z))² over the fidelity's labelled samples
    (least squares; the minimum-norm solution where the compositions do not fix every
    element). The shift μ_f is then the mean remaining energy per atom and the scale s_f
    its standard deviation (the RMS force where forces are labelled), floored at 1 meV.

    With ``delta_to_pbe`` (Δ-learning, :attr:`PotentialConfig.delta_to_pbe`) a fidelity
    other than PBE gets the same fit of its correction: E_g is replaced by the difference
    E_f,g − E_pbe,g over the structures (``Sample.key``) labelled at both, and the forces by
    their difference. Where no structure has both labels, the difference is taken against
    the PBE reference energies, E_f,g − Σ_Z n_gZ E0_pbe(Z).

    Returns:
        atomic_energies [n_fidelities, n_elements] (eV), scale [n_fidelities],
        shift [n_fidelities] (eV/atom) and the fidelities that had data.

    Raises:
        ValueError: ``delta_to_pbe`` with labels of another fidelity but none at PBE.
    """
    column = {int(z): i for i, z in enumerate(elements)}
    e0 = np.zeros((len(FIDELITY_ORDER), len(elements)))
    scale, shift = np.ones(len(FIDELITY_ORDER)), np.zeros(len(FIDELITY_ORDER))
    labelled = {f: [s for s in samples if s.fidelity == f and s.energy_ev is not None] for f in FIDELITY_ORDER}
    base = FIDELITY_ORDER[BASE_HEAD]
    if delta_to_pbe and not labelled[base] and any(labelled.values()):
        raise ValueError("delta_to_pbe predicts every fidelity as PBE plus a correction, but no sample is labelled at PBE")
    by_key = {s.key: s for s in labelled[base] if s.key}

    def counts_of(chosen: Sequence[Sample]) -> np.ndarray:  # [n_samples, n_elements] atoms of each element
        counts = np.zeros((len(chosen), len(elements)))
        for row, sample in enumerate(chosen):
            np.add.at(counts[row], [column[int(z)] for z in sample.atomic_numbers], 1.0)
        return counts

    trained = []
    for head, fidelity in enumerate(FIDELITY_ORDER):
        chosen = labelled[fidelity]
        if not chosen:
            continue
        trained.append(fidelity.value)
        energies = np.array([s.energy_ev for s in chosen])
        forces = [s.forces_ev_per_a for s in chosen if s.forces_ev_per_a is not None]
        if delta_to_pbe and head != BASE_HEAD:
            paired = [(s, by_key[s.key]) for s in chosen if s.key in by_key]
            if paired:
                chosen = [s for s, _ in paired]
                energies = np.array([s.energy_ev - p.energy_ev for s, p in paired])
                forces = [s.forces_ev_per_a - p.forces_ev_per_a for s, p in paired
                          if s.forces_ev_per_a is not None and p.forces_ev_per_a is not None]
            else:
                energies = energies - counts_of(chosen) @ e0[BASE_HEAD]
                forces = []
        counts = counts_of(chosen)
        e0[head] = np.linalg.lstsq(counts, energies, rcond=None)[0]
        residual = (energies - counts @ e0[head]) / counts.sum(axis=1)  # eV/atom
        shift[head] = residual.mean()
        spread = float(np.sqrt(np.mean(np.concatenate(forces) ** 2))) if forces else float(residual.std())
        scale[head] = max(spread, 1e-3)
    return e0, scale, shift, trained


def build_model(
    samples: Sequence[Sample],
    graphs: Sequence[NeighbourGraph],
    config: PotentialConfig,
    elements: Sequence[int],
    references: Sequence[Sample] | None = None,
) -> MultiFidelityMACE:
    """A fresh network: reference energies and normalisation from ``references`` (``samples`` by default),
    the mean neighbour count from ``graphs`` over the atoms of ``samples``."""
    e0, scale, shift, trained = fit_reference_energies(samples if references is None else references, elements, config.delta_to_pbe)
    neighbours = sum(g.edge_index.shape[1] for g in graphs) / max(1, sum(s.num_atoms for s in samples))
    return MultiFidelityMACE(config, elements, e0, scale, shift, max(neighbours, 1.0), trained)


def training_device(name: str) -> torch.device:
    """The torch device of ``PotentialConfig.device``.

    Raises:
        ValueError: a CUDA device is asked for and torch sees none (or fewer than N + 1).
    """
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"validator device {name!r}: torch sees no CUDA device (torch {torch.__version__}, CUDA build {torch.version.cuda})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"validator device {name!r}: torch sees {torch.cuda.device_count()} CUDA device(s)")
    return device


def train_potential(
    train: Sequence[Sample],
    config: PotentialConfig,
    valid: Sequence[Sample] = (),
    seed: int | None = None,
    elements: Sequence[int] | None = None,
    progress: bool = True,
    reference_samples: Sequence[Sample] | None = None,
) -> TrainingResult:
    """Train one network on ``train`` following ``config.schedule``.

    Each stage of the schedule trains on the samples of its fidelities for
    ``epochs / n_stages`` epochs; a stage whose new fidelities have no data is skipped
    (progressive on PBE and CCSD(T) labels alone runs two stages). The weights with the
    lowest validation loss of the last stage are kept (the last weights without
    validation data).

    Args:
        train: labelled samples.
        config: architecture and training settings.
        valid: held-out labelled samples for model selection and metrics.
        seed: random seed (``config.seed`` by default).
        elements: element table (the elements of ``train`` and ``valid`` by default).
        progress: show a progress bar.
        reference_samples: the samples the per-fidelity atomic reference energies E0 and the
            scale and shift are fitted on (``train`` by default). An ensemble passes its whole
            training set, so that every bootstrap member shares them: a resample that misses
            the only labels of an element at a fidelity would otherwise give that element
            E0 = 0 there (measured on the pool: one member missed every Sr PBE label, its
            E0(Sr) was 838 eV off, and the ensemble's PBE MAE 35 eV/atom).

    The network trains on ``config.device`` and is returned on the CPU.

    Raises:
        ValueError: no labelled sample in ``train`` for the schedule's fidelities, or
            ``config.device`` is not available.
    """
    device = training_device(config.device)
    seed = config.seed if seed is None else seed
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.set_num_threads(config.threads)
    labelled = [s for s in train if s.energy_ev is not None]
    stage_fidelities = config.stages()
    if not any(s.fidelity in stage_fidelities[-1] for s in labelled):
        raise ValueError(f"no labelled training sample at the fidelities of schedule {config.schedule!r}: {[f.value for f in stage_fidelities[-1]]}")
    elements = sorted({int(z) for s in (*labelled, *valid) for z in s.atomic_numbers}) if elements is None else list(elements)
    start = time.perf_counter()
    graphs = [neighbour_graph(s, config.r_max) for s in labelled]
    valid_graphs = [neighbour_graph(s, config.r_max) for s in valid]
    last_stage_samples = [s for s in labelled if s.fidelity in stage_fidelities[-1]]
    references = None if reference_samples is None else [s for s in reference_samples if s.energy_ev is not None and s.fidelity in stage_fidelities[-1]]
    model = build_model(last_stage_samples, graphs, config, elements, references).to(device)
    owned = model.fidelity_parameters() if config.stop_gradient else {}
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, amsgrad=True, weight_decay=config.weight_decay)
    present = {s.fidelity for s in labelled}
    stage_indices = [
        [i for i, s in enumerate(labelled) if s.fidelity in fidelities]
        if stage == 0 or present & (set(fidelities) - set(stage_fidelities[stage - 1]))
        else []  # a stage whose new fidelities have no data adds nothing: skipped
        for stage, fidelities in enumerate(stage_fidelities)
    ]
    epochs_per_stage = max(1, config.epochs // max(1, sum(bool(idx) for idx in stage_indices)))
    total_steps = sum(epochs_per_stage * -(-len(idx) // config.batch_size) for idx in stage_indices)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, total_steps), eta_min=0.01 * config.learning_rate)
    last_stage = max(stage for stage, idx in enumerate(stage_indices) if idx)
    history: list[dict[str, float]] = []
    best_loss, best_state = np.inf, None
    bar = tqdm(total=total_steps, desc="validator training", disable=not progress, leave=False)
    for stage, (fidelities, indices) in enumerate(zip(stage_fidelities, stage_indices, strict=True)):
        if not indices:
            logger.info("stage %d (%s): no training data, skipped", stage, ",".join(f.value for f in fidelities))
            continue
        valid_idx = [i for i, s in enumerate(valid) if s.fidelity in fidelities and s.energy_ev is not None]
        for epoch in range(epochs_per_stage):
            model.train()
            order = rng.permutation(indices)
            epoch_loss = 0.0
            for first in range(0, len(order), config.batch_size):
                chosen = order[first : first + config.batch_size]
                batch = collate([labelled[i] for i in chosen], [graphs[i] for i in chosen], elements, model.dtype, device=device)
                loss = training_step(model, optimiser, batch, config, owned)
                scheduler.step()
                epoch_loss += loss * len(chosen)
                bar.update(1)
            record = {"stage": stage, "epoch": epoch, "train_loss": epoch_loss / len(order)}
            if valid_idx:
                record["valid_loss"] = _loss_of(model, [valid[i] for i in valid_idx], [valid_graphs[i] for i in valid_idx], config, elements)
                if stage == last_stage and record["valid_loss"] < best_loss:
                    best_loss, best_state = record["valid_loss"], copy.deepcopy(model.state_dict())
            record["elapsed_s"] = time.perf_counter() - start
            history.append(record)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k.endswith("loss")})
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    metrics = evaluate(model, valid, batch_size=config.batch_size) if valid else {}
    model.to("cpu")
    return TrainingResult(model=model, history=history, metrics=metrics, wall_time_s=time.perf_counter() - start)


def training_step(
    model: MultiFidelityMACE, optimiser: torch.optim.Optimizer, batch: dict[str, torch.Tensor], config: PotentialConfig, owned: dict
) -> float:
    """One optimiser step on ``batch``; returns the loss.

    ``owned`` (from :meth:`MultiFidelityMACE.fidelity_parameters`, empty without
    stop-gradient) lists each fidelity's own parameter elements: those of fidelities
    absent from the batch get no gradient and are restored after the step, so neither
    the gradient nor the optimiser's momentum or weight decay can move them.
    """
    optimiser.zero_grad(set_to_none=False)
    wants_forces = config.forces_weight > 0 and bool(batch["has_forces"].any())
    predicted = model(batch, compute_forces=wants_forces, training=True)
    loss, _ = multi_fidelity_loss(predicted, batch, config)
    loss.backward()
    present = {FIDELITY_ORDER[int(h)].value for h in batch["head"]}
    params = dict(model.named_parameters())
    frozen = [(params[name], mask) for fid, masks in owned.items() if fid not in present for name, mask in masks.items()]
    saved = [(param, mask, param.detach()[mask].clone()) for param, mask in frozen]
    for param, mask in frozen:
        param.grad[mask] = 0.0
    optimiser.step()
    with torch.no_grad():
        for param, mask, values in saved:
            param[mask] = values
    return float(loss.detach())


def _loss_of(model: MultiFidelityMACE, samples: Sequence[Sample], graphs: Sequence[NeighbourGraph], config: PotentialConfig, elements: Sequence[int]) -> float:
    total = 0.0
    for first in range(0, len(samples), config.batch_size):
        batch = collate(samples[first : first + config.batch_size], graphs[first : first + config.batch_size], elements, model.dtype, device=model.device)
        wants_forces = config.forces_weight > 0 and bool(batch["has_forces"].any())
        predicted = model(batch, compute_forces=wants_forces)
        loss, _ = multi_fidelity_loss({k: None if v is None else v.detach() for k, v in predicted.items()}, batch, config)
        total += float(loss) * len(batch["energy"])
    return total / len(samples)


def predict_samples(
    model: MultiFidelityMACE,
    samples: Sequence[Sample],
    fidelities: Sequence[Fidelity | str] | None = None,
    compute_forces: bool = False,
    batch_size: int = 32,
    graphs: Sequence[NeighbourGraph] | None = None,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Total energies (eV) of ``samples`` at each fidelity, and forces if asked.

    Returns:
        energies [n_samples, n_fidelities] (eV) and, with ``compute_forces``, for each
        fidelity a [n_atoms_total, 3] force array (eV/Å, samples concatenated).

    Raises:
        ValueError: a fidelity the model was not trained on.
    """
    fidelities = [Fidelity.parse(f) for f in (fidelities or [s.fidelity for s in samples[:1]])]
    untrained = [f.value for f in fidelities if f.value not in model.trained_fidelities]
    if untrained:
        raise ValueError(f"the potential was not trained at {untrained}; trained fidelities: {model.trained_fidelities}")
    graphs = list(graphs) if graphs is not None else [neighbour_graph(s, model.config.r_max) for s in samples]
    energies = np.zeros((len(samples), len(fidelities)))
    forces: list[list[np.ndarray]] = [[] for _ in fidelities]
    model.eval()
    for first in range(0, len(samples), batch_size):
        chunk, chunk_graphs = samples[first : first + batch_size], graphs[first : first + batch_size]
        for column, fidelity in enumerate(fidelities):
            batch = collate(chunk, chunk_graphs, model.elements, model.dtype, fidelities=[fidelity] * len(chunk), device=model.device)
            with torch.set_grad_enabled(compute_forces):
                out = model(batch, compute_forces=compute_forces)
            energies[first : first + len(chunk), column] = out["energy"].detach().cpu().numpy()
            if compute_forces:
                forces[column].append(out["forces"].detach().cpu().numpy())
    return energies, ([np.concatenate(f) for f in forces] if compute_forces else None)


def evaluate(model: MultiFidelityMACE, samples: Sequence[Sample], batch_size: int = 32) -> dict[str, dict[str, float]]:
    """Mean absolute errors per fidelity on labelled ``samples``.

    Returns:
        ``{fidelity: {"n", "energy_mae_mev_per_atom", "energy_mae_mev", "forces_mae_mev_per_a"}}``
        (forces only where labelled).
    """
    metrics: dict[str, dict[str, float]] = {}
    for fidelity in FIDELITY_ORDER:
        chosen = [s for s in samples if s.fidelity == fidelity and s.energy_ev is not None]
        if not chosen or fidelity.value not in model.trained_fidelities:
            continue
        with_forces = all(s.forces_ev_per_a is not None for s in chosen)
        energies, forces = predict_samples(model, chosen, [fidelity], compute_forces=with_forces, batch_size=batch_size)
        error = energies[:, 0] - np.array([s.energy_ev for s in chosen])
        n_atoms = np.array([s.num_atoms for s in chosen])
        entry = {
            "n": float(len(chosen)),
            "energy_mae_mev": float(np.mean(np.abs(error)) * 1000),
            "energy_mae_mev_per_atom": float(np.mean(np.abs(error / n_atoms)) * 1000),
        }
        if with_forces and forces is not None:
            reference = np.concatenate([s.forces_ev_per_a for s in chosen])
            entry["forces_mae_mev_per_a"] = float(np.mean(np.abs(forces[0] - reference)) * 1000)
        metrics[fidelity.value] = entry
    return metrics
