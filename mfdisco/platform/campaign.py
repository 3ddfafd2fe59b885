"""The campaign runner: wires generator, validator, labeller and the active-loop logic through Ray.

One cycle (DESIGN.md, data flow): propose candidates with the generator (CSP on the
campaign's compositions, conditioned on q of the labelled structure where PBE and
CCSD(T) disagree most) → filter (validity, SMACT, dedup) → relax at the validator's PBE
head and predict every fidelity → D, U, S → select k (batch-diverse) → label with PySCF
→ hulls and discoveries → retrain. Each step ends with one transaction that stores its
results and the cycle's new status (``db.campaigns.CYCLE_STEPS``), so ``--resume``
restarts a crashed campaign at the first unfinished step: stored labels are never
recomputed and a label lost in flight is computed once more.

Models live under ``campaign.work_dir/<campaign>/`` and in the ``models`` table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from mfdisco.active_loop import scores, signatures, stopping
from mfdisco.active_loop.compositions import candidate_compositions, draw_compositions
from mfdisco.active_loop.filtering import filter_candidates
from mfdisco.active_loop.fingerprints import fingerprints
from mfdisco.active_loop.monitoring import CampaignMetrics
from mfdisco.active_loop.volumes import reduced_cell
from mfdisco.active_loop import tasks
from mfdisco.core import Fidelity, MfdiscoError
from mfdisco import db
from mfdisco.generator.datasets.records import CrystalRecord
from mfdisco.labeller.distributed import LabelJob, label_many
from mfdisco.labeller.references import reference_jobs
from mfdisco.labeller.settings import settings_hash
from mfdisco.platform.campaign_data import (
    LabelledStructure, descriptor_table, hulls, import_pool, labelled_at, predicted_hull_distances, reference_mu,
)
from mfdisco.platform.config import MfdiscoConfig
from mfdisco.platform.ray_connection import require_gpus

__all__ = ["CampaignRunner", "CampaignOutcome"]

logger = logging.getLogger(__name__)

LabelCallback = Callable[[LabelJob, Any], None]


@dataclass
class CampaignOutcome:
    """What a run of the campaign did: its id and name, each cycle's row values, why it stopped."""

    campaign_id: int
    name: str
    cycles: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    seconds: float = 0.0


class CampaignRunner:
    """Runs (or resumes) one campaign; Ray must be initialised.

    Args:
        cfg: the whole configuration (its ``campaign`` section drives the loop).
        engine: the database (this process is its only writer).
        on_label: called after each label (a progress bar).
    """

    def __init__(self, cfg: MfdiscoConfig, engine: Engine, on_label: LabelCallback | None = None) -> None:
        self.cfg = cfg
        self.engine = engine
        self.campaign = cfg.campaign
        self.on_label = on_label
        self.potential_config = self.campaign.potential_config(cfg.validator)
        self.generator_config = self.campaign.generator_config(cfg.generator)
        self.campaign_id = 0
        self.name = ""
        self.metrics: CampaignMetrics | None = None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, cfg: MfdiscoConfig, engine: Engine, name: str | None = None, on_label: LabelCallback | None = None) -> CampaignRunner:
        """A new campaign (its config saved in its row).

        Raises:
            CampaignError: a campaign of that name exists.
        """
        runner = cls(cfg, engine, on_label)
        runner.name = name or datetime.now(UTC).strftime("campaign-%Y%m%d-%H%M%S")
        runner.campaign_id = db.create_campaign(engine, runner.name, cfg.model_dump(mode="json"), cfg.campaign.hit_threshold_ev_per_atom)
        return runner

    @classmethod
    def resume(cls, cfg: MfdiscoConfig, engine: Engine, name: str, on_label: LabelCallback | None = None) -> CampaignRunner:
        """An existing campaign, run with the config stored in its row (database and Ray from ``cfg``).

        Raises:
            CampaignError: no campaign of that name.
        """
        row = db.find_campaign(engine, name)
        if row is None:
            raise db.CampaignError(f"no campaign named {name!r} to resume")
        stored = MfdiscoConfig.model_validate({**row.config, "db": cfg.db.model_dump(), "ray": cfg.ray.model_dump()})
        runner = cls(stored, engine, on_label)
        runner.name, runner.campaign_id = name, row.id
        db.set_campaign_status(engine, row.id, "running")
        return runner

    @property
    def folder(self) -> Path:
        """Where this campaign's checkpoints go."""
        return self.campaign.work_dir / self.name

    def run(self, max_cycles: int | None = None) -> CampaignOutcome:
        """Prepare (pool, references, first models) and run cycles until a stopping rule fires."""
        import ray

        started = time.perf_counter()
        require_gpus(self.potential_config.gpus, ray.cluster_resources())
        self.metrics = CampaignMetrics(self.name)
        self._prepare()
        outcome = CampaignOutcome(self.campaign_id, self.name)
        limit = max_cycles or self.campaign.max_cycles
        while True:
            finished = [c for c in db.cycles_of(self.engine, self.campaign_id) if c.status == "finished"]
            reason = stopping.stop_reason(
                [c.n_discoveries for c in finished], self._ccsd_t_used(), self.campaign.ccsd_t_budget, 1, limit, self.campaign.patience
            )
            if reason is not None:
                break
            cycle = db.open_cycle(self.engine, self.campaign_id, len(finished) + 1)
            self._run_cycle(cycle.id, cycle.number)
        outcome.stop_reason = reason
        outcome.cycles = [_cycle_values(c) for c in db.cycles_of(self.engine, self.campaign_id)]
        db.set_campaign_status(self.engine, self.campaign_id, "finished", notes=f"stopped: {reason}", finished=True)
        outcome.seconds = time.perf_counter() - started
        logger.info("campaign %s stopped (%s) after %.0f s", self.name, reason, outcome.seconds)
        return outcome

    # ------------------------------------------------------------------ preparation
    def _prepare(self) -> None:
        if self.campaign.pool_file is not None:
            structures, new = import_pool(self.engine, self.campaign.pool_file)
            logger.info("reference pool: %d structures, %d new labels", structures, new)
        jobs = [
            LabelJob(sid, f, s)
            for f in self.campaign.fidelities
            for sid, s in reference_jobs(self.engine, self.campaign.elements, f, self.cfg.labeller.settings_for(f))
        ]
        self._label(jobs, cycle_id=None)
        missing = [f.value for f in self.campaign.fidelities if set(reference_mu(self._labelled(f))) < set(self.campaign.elements)]
        if missing:
            raise MfdiscoError(f"elemental references of {self.campaign.elements} could not be labelled at {missing}; see the calculations table")
        missing_generator = self._model_path("generator") is None
        if missing_generator or self._model_path("validator") is None:
            self._train_models(cycle_id=None, number=0, generator=missing_generator)

    # ------------------------------------------------------------------ one cycle
    def _run_cycle(self, cycle_id: int, number: int) -> None:
        steps = {"created": self._select, "selected": self._label_selected, "labelled": self._evaluate, "evaluated": self._retrain}
        while True:
            status = next(c.status for c in db.cycles_of(self.engine, self.campaign_id) if c.id == cycle_id)
            if status == "finished":
                return
            logger.info("cycle %d: %s", number, {"created": "sampling and selecting", "selected": "labelling", "labelled": "hulls and discoveries", "evaluated": "retraining"}[status])
            self.metrics.update(cycle=number)
            steps[status](cycle_id, number)

    def _select(self, cycle_id: int, number: int) -> None:
        import ray

        campaign = self.campaign
        rng = np.random.default_rng(campaign.seed * 100_003 + number)
        compositions = draw_compositions(candidate_compositions(campaign.elements, campaign.min_atoms, campaign.max_atoms), campaign.n_candidates, rng)
        condition = self._condition()
        threads = self.potential_config.threads
        proposed = ray.get(self._remote(tasks.propose_candidates, threads).remote(
            self._model_path("generator"), compositions, condition, campaign.guidance, int(rng.integers(2**31)), threads
        ))
        known = [c for _, c, _ in db.structures_within(self.engine, campaign.elements)]  # any size: dedup is supercell-invariant
        proposed = _at_expected_volume(proposed, known)
        first = filter_candidates(proposed, known, campaign.elements, campaign.min_atoms, campaign.max_atoms)
        mu = {f.value: reference_mu(self._labelled(f)) for f in self.campaign.fidelities}
        scored = ray.get(self._remote(tasks.relax_and_predict, threads).remote(
            self._model_path("validator"), [proposed[i] for i in first.kept], mu, campaign.relax_steps, threads, campaign.max_relax_volume_change
        )) if first.kept else []
        scored = [replace(s, crystal=reduced_cell(s.crystal)) for s in scored]
        second = filter_candidates([s.crystal for s in scored], known, campaign.elements, campaign.min_atoms, campaign.max_atoms, campaign.min_contact_ratio)
        kept = [scored[i] for i in second.kept if scored[i].formation_per_atom.get("pbe") is not None and scored[i].formation_per_atom.get("ccsd_t") is not None]
        ece = self._validator_ece()
        mode = "selection" if ece is not None and ece <= campaign.ece_gate else "bootstrap"
        records, divergence = self._score(kept, mode)
        budget_left = campaign.ccsd_t_budget - self._ccsd_t_used()
        values = {
            "mode": mode, "ece": ece, "n_generated": len(proposed), "n_valid": first.n_valid, "n_novel": len(kept),
            "n_selected": sum(r.selected for r in records),
            "max_divergence_ev_per_atom": float(divergence.max()) if len(divergence) else None,
            "metrics": {
                "condition": condition, "rejected_before_relaxation": dict(first.reasons), "rejected_after_relaxation": dict(second.reasons),
                "novelty": first.novelty, "budget_left": budget_left,
            },
        }
        if mode == "bootstrap":
            logger.info("cycle %d: validator ECE %s above the gate %.2f: labelling a diverse bootstrap batch", number, "n/a" if ece is None else f"{ece:.3f}", campaign.ece_gate)
        db.store_candidates(self.engine, self.campaign_id, cycle_id, records, values)
        self.metrics.update(candidates=len(proposed), max_divergence_ev_per_atom=values["max_divergence_ev_per_atom"])
        logger.info("cycle %d: %d proposed, %d valid, %d novel after relaxation, %d selected", number, len(proposed), first.n_valid, len(kept), values["n_selected"])

    def _score(self, kept: list[tasks.ScoredCandidate], mode: str) -> tuple[list[db.CandidateRecord], np.ndarray]:
        campaign = self.campaign
        if not kept:
            return [], np.zeros(0)
        ef_pbe = np.array([s.formation_per_atom["pbe"] for s in kept])
        ef_cc = np.array([s.formation_per_atom["ccsd_t"] for s in kept])
        divergence = scores.divergence(ef_pbe, ef_cc, campaign.divergence)
        prints = fingerprints([s.crystal for s in kept])
        std_cc = np.array([s.std_per_atom["ccsd_t"] for s in kept])
        labelled_cc = self._labelled(Fidelity.CCSD_T)  # every system: a hull takes only the entries of its own
        if campaign.uncertainty == "diversity":
            uncertainty = scores.nearest_distances(prints, fingerprints([item.crystal for item in labelled_cc]))
            uncertainty = np.where(np.isfinite(uncertainty), uncertainty, 0.0)
        else:
            uncertainty = std_cc
        e_hull_cc = predicted_hull_distances(labelled_cc, [s.crystal for s in kept], [s.energy_per_atom["ccsd_t"] for s in kept])
        if mode == "selection":
            combined = scores.combined_score(divergence, uncertainty, campaign.weight_divergence, campaign.weight_uncertainty)
            ranking = combined
            if campaign.stability_window_ev_per_atom is not None:
                inside = scores.within_stability_window(e_hull_cc, std_cc, campaign.stability_window_ev_per_atom, campaign.stability_window_z)
                ranking = scores.window_first(combined, inside)
        else:
            combined = ranking = scores.min_max(uncertainty)
        k = max(0, min(campaign.k_select, campaign.ccsd_t_budget - self._ccsd_t_used()))
        chosen = set(scores.select_batch(ranking, prints, k, campaign.min_fingerprint_distance))
        ranks = np.empty(len(kept), dtype=int)
        ranks[np.argsort(-ranking, kind="stable")] = np.arange(1, len(kept) + 1)
        records = [
            db.CandidateRecord(
                crystal=s.crystal,
                predictions={
                    f: {"mean": s.energy_per_atom[f], "std": s.std_per_atom[f], "formation": s.formation_per_atom.get(f)}
                    | ({"e_hull": float(e_hull_cc[i]) if np.isfinite(e_hull_cc[i]) else None} if f == "ccsd_t" else {})
                    for f in s.energy_per_atom
                },
                ef_pbe=float(ef_pbe[i]), ef_ccsd_t=float(ef_cc[i]), std_ccsd_t=float(s.std_per_atom.get("ccsd_t", np.nan)),
                divergence=float(divergence[i]), uncertainty=float(uncertainty[i]), score=float(combined[i]), rank=int(ranks[i]),
                selected=i in chosen, properties={"relax_steps": s.relax_steps, "relaxed": s.relaxed},
            )
            for i, s in enumerate(kept)
        ]
        return records, divergence

    def _label_selected(self, cycle_id: int, number: int) -> None:
        selected = db.selected_structures(self.engine, cycle_id)
        limit = {"timeout_s": self.campaign.label_timeout_s}
        # fidelity-major: the slow DFT labels of all candidates start first, in parallel
        jobs = [LabelJob(sid, f, self.cfg.labeller.settings_for(f).model_copy(update=limit)) for f in self.campaign.fidelities for sid, _ in selected]
        self._label(jobs, cycle_id)
        done = failed = 0
        for sid, _ in selected:
            for f in self.campaign.fidelities:
                row = db.find_calculation(self.engine, sid, f, settings_hash(f, self.cfg.labeller.settings_for(f)))
                done += row is not None and row.status == "done"
                failed += row is not None and row.status in ("failed", "refused")
        db.update_cycle(self.engine, cycle_id, status="labelled", n_labelled=done, n_failed=failed)
        counts = db.calculation_counts(self.engine, self.campaign_id)
        self.metrics.update(
            labels_done=sum(n for (_, s), n in counts.items() if s == "done"),
            labels_failed=sum(n for (_, s), n in counts.items() if s in ("failed", "refused")),
        )

    def _evaluate(self, cycle_id: int, number: int) -> None:
        campaign = self.campaign
        for fidelity in campaign.fidelities:
            results = hulls(self._labelled(fidelity, campaign.elements))
            settings = self.cfg.labeller.settings_for(fidelity)
            db.replace_hull_distances(
                self.engine, self.campaign_id, cycle_id, fidelity, settings_hash(fidelity, settings),
                {sid: (r.formation_energy_per_atom_ev, r.e_above_hull_per_atom_ev) for sid, r in results.items()},
            )
        found = db.cycle_discoveries(self.engine, self.campaign_id, campaign.hit_threshold_ev_per_atom)
        cycles = db.cycles_of(self.engine, self.campaign_id)
        cycle = next(c for c in cycles if c.id == cycle_id)
        n_found = len(found.get(number, []))
        history = [len(found.get(c.number, [])) for c in cycles if c.number <= number]
        labelled = self._labelled_candidates(cycle_id)
        all_d = [row.divergence for row in db.candidates_of_cycle(self.engine, cycle_id) if row.divergence is not None]
        fired = signatures.cycle_signatures(
            cycle.metrics.get("novelty", 1.0), labelled, all_d, history, campaign.ccsd_t_budget - self._ccsd_t_used(),
            campaign.hit_threshold_ev_per_atom, campaign.novelty_warning,
        )
        for signature in fired:
            logger.warning("cycle %d failure signature %s: %s", number, signature["name"], signature["detail"])
        hit_rate = n_found / cycle.n_selected if cycle.n_selected else None
        db.update_cycle(self.engine, cycle_id, status="evaluated", n_discoveries=n_found, hit_rate=hit_rate, failure_signatures=fired)
        total = sum(len(v) for v in found.values())
        selected = sum(c.n_selected for c in cycles)
        self.metrics.update(discoveries=total, hit_rate=total / selected if selected else None)

    def _retrain(self, cycle_id: int, number: int) -> None:
        self._train_models(cycle_id, number, generator=number % self.campaign.generator_every == 0)
        db.update_cycle(self.engine, cycle_id, status="finished")

    # ------------------------------------------------------------------ models
    def _train_models(self, cycle_id: int | None, number: int, generator: bool) -> None:
        """Validator (every cycle), descriptor proxy and, when asked, generator; recorded in ``models``."""
        import ray

        from mfdisco.validator.checkpoint import load_ensemble, record_model
        from mfdisco.validator.samples import samples_from_labels, split_by_structure

        config = self.potential_config
        pairs = [(item.crystal, item.label) for f in self.campaign.fidelities for item in self._labelled(f)]
        train, valid = split_by_structure(samples_from_labels(pairs), self.campaign.validation_fraction, self.campaign.seed + number)
        validator = self._remote(tasks.train_validator, config.threads, gpus=config.gpus).remote(
            train, valid, config.model_dump_json(), str(self.folder / f"validator-{number:03d}.pt"), config.threads
        )
        proxy_ref = self._train_proxy(number)
        if generator:
            proxy_path = ray.get(proxy_ref)
            generator_path, summary = ray.get(self._train_generator(number, proxy_path))
            db.add_model(
                self.engine, "generator", "diffcsp", str(Path(generator_path).resolve()), self.generator_config.model_dump(mode="json"),
                {"final_loss": summary["final_loss"], "epochs": summary["epochs"]}, summary["records"], summary["training_set_hash"],
                campaign_id=self.campaign_id, cycle_id=cycle_id,
            )
        else:
            proxy_path = ray.get(proxy_ref)
        path = ray.get(validator)
        record_model(self.engine, load_ensemble(path), path, campaign_id=self.campaign_id, cycle_id=cycle_id)
        db.add_model(self.engine, "proxy", "gin", str(Path(proxy_path).resolve()), {"names": self.campaign.quantum_descriptors}, {}, 0, None,
                     campaign_id=self.campaign_id, cycle_id=cycle_id)

    def _train_proxy(self, number: int):  # noqa: ANN202 - ray.ObjectRef
        labelled_pbe = self._labelled(Fidelity.PBE)
        table = descriptor_table(labelled_pbe, self.campaign.quantum_descriptors)
        labelled = {item.structure_id: item.crystal for item in labelled_pbe}
        ids = sorted(table)
        if len(ids) < 2:
            raise MfdiscoError(f"the descriptor proxy needs PBE labels with descriptors; {len(ids)} found")
        return self._remote(tasks.train_proxy, 1).remote(
            [labelled[i] for i in ids], np.array([table[i] for i in ids]), self.campaign.quantum_descriptors,
            self.campaign.proxy_epochs, self.campaign.seed, str(self.folder / f"proxy-{number:03d}.pt"), 1,
        )

    def _train_generator(self, number: int, proxy_path: str):  # noqa: ANN202 - ray.ObjectRef
        """Generator records: stored structures (≤ generator_max_atoms) with q from PBE labels, else from the proxy."""
        from mfdisco.generator.proxy import load_proxy

        rows = [(sid, c) for sid, c, _ in db.structures_within(self.engine, None, self.campaign.generator_max_atoms)]
        table = descriptor_table(self._labelled(Fidelity.PBE), self.campaign.quantum_descriptors)
        proxy, names = load_proxy(proxy_path)
        unlabelled = [c for sid, c in rows if sid not in table]
        predicted = iter(proxy.predict(unlabelled) if unlabelled else [])
        records = []
        for sid, crystal in rows:
            q = table[sid] if sid in table else [float(v) for v in next(predicted)]
            records.append(CrystalRecord(crystal, "database", str(sid), dict(zip(names, q, strict=True))))
        start_from = self._model_path("generator")
        limit = self.campaign.generator_finetune_time_s if start_from else self.campaign.generator_time_s
        threads = self.generator_config.threads
        return self._remote(tasks.train_generator, threads, returns=1).remote(
            records, self.generator_config.model_dump_json(), limit, str(self.folder / f"generator-{number:03d}.pt"), start_from, threads
        )

    # ------------------------------------------------------------------ helpers
    def _remote(self, function: Callable, cpus: int, returns: int = 1, gpus: int = 0):  # noqa: ANN202 - ray.remote_function.RemoteFunction
        """``function`` as a Ray task that declares ``cpus`` CPUs and ``gpus`` GPUs (Ray picks the GPU and sets
        CUDA_VISIBLE_DEVICES, so the task sees it as ``cuda``)."""
        import ray

        return ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=self.cfg.labeller.max_retries, num_returns=returns)(function)

    def _label(self, jobs: list[LabelJob], cycle_id: int | None) -> None:
        """Label ``jobs`` except those already stored as done, failed or refused (never computed twice)."""
        todo = []
        for job in jobs:
            row = db.find_calculation(self.engine, job.structure_id, job.fidelity, settings_hash(job.fidelity, job.settings))
            if row is None or row.status in ("pending", "running"):
                todo.append(job)
        if todo:
            labeller = self.cfg.labeller
            label_many(self.engine, todo, cpus_per_task=labeller.cpus_per_task, max_retries=labeller.max_retries,
                       campaign_id=self.campaign_id, cycle_id=cycle_id, on_finished=self.on_label)

    def _labelled(self, fidelity: Fidelity, elements: list[str] | None = None) -> list[LabelledStructure]:
        return labelled_at(self.engine, fidelity, self.cfg.labeller.settings_for(fidelity), elements)

    def _model_path(self, kind: str) -> str | None:
        row = db.latest_model(self.engine, kind, self.campaign_id)
        return row.path if row is not None and Path(row.path).is_file() else None

    def _validator_ece(self) -> float | None:
        row = db.latest_model(self.engine, "validator", self.campaign_id)
        entry = (row.metrics or {}).get("valid_ccsd_t", {}) if row is not None else {}
        return entry.get("ece")

    def _ccsd_t_used(self) -> int:
        counts = db.calculation_counts(self.engine, self.campaign_id)
        return sum(n for (f, s), n in counts.items() if f == Fidelity.CCSD_T.value and s in ("done", "failed"))

    def _condition(self) -> dict[str, float] | None:
        """q of the labelled structure (campaign elements) with the largest |ΔE_f,pbe − ΔE_f,ccsd_t|."""
        elements = self.campaign.elements
        labelled_pbe = self._labelled(Fidelity.PBE, elements)
        pbe, cc = hulls(labelled_pbe), hulls(self._labelled(Fidelity.CCSD_T, elements))
        table = descriptor_table(labelled_pbe, self.campaign.quantum_descriptors)
        gaps = {sid: abs(pbe[sid].formation_energy_per_atom_ev - cc[sid].formation_energy_per_atom_ev) for sid in set(pbe) & set(cc) & set(table)}
        if not gaps:
            return None
        best = max(gaps, key=gaps.get)
        return dict(zip(self.campaign.quantum_descriptors, table[best], strict=True))

    def _labelled_candidates(self, cycle_id: int) -> list[signatures.LabelledCandidate]:
        cc = db.hull_distances_of(self.engine, self.campaign_id, Fidelity.CCSD_T)
        found = []
        for row in db.candidates_of_cycle(self.engine, cycle_id):
            if row.selected and row.structure_id in cc and row.divergence is not None:
                found.append(signatures.LabelledCandidate(
                    row.divergence, row.pred_ef_ccsd_t_ev_per_atom, row.pred_std_ccsd_t_ev_per_atom or 0.0, *cc[row.structure_id]
                ))
        return found


def _at_expected_volume(crystals: list, known: list) -> list:
    """Candidates scaled to the volume their composition has in known structures, in a Niggli-reduced basis."""
    from mfdisco.active_loop.volumes import expected_volumes, scale_to_volume

    targets = expected_volumes(crystals, known)
    return [reduced_cell(scale_to_volume(c, v) if v is not None else c) for c, v in zip(crystals, targets, strict=True)]


def _cycle_values(cycle: Any) -> dict[str, Any]:
    keys = ("number", "status", "mode", "n_generated", "n_valid", "n_novel", "n_selected", "n_labelled", "n_failed", "n_discoveries", "hit_rate", "max_divergence_ev_per_atom", "ece", "failure_signatures")
    return {key: getattr(cycle, key) for key in keys}

