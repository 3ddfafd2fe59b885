"""``label_many``: labels as Ray tasks, each written to the database as soon as it finishes.

The driver is the only database writer (SQLite admits one writer at a time), so a
crash of the driver loses at most the labels in flight. Labels in flight are visible in
``calculations``: ``pending`` once submitted, ``running`` once Ray reports the task
running (polled from Ray's state API every few seconds where the dashboard runs), then
their outcome. A rerun recomputes pending and running rows. A task whose worker dies is
retried by Ray (``max_retries``); a calculation that hangs or explodes ends in its own
child process (:func:`~mfdisco.labeller.isolation.label_isolated`). Labels already
stored as done are not submitted at all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import InFlight, get_structure, mark_in_flight, record_label, structure_to_crystal
from mfdisco.labeller.isolation import label_isolated
from mfdisco.labeller.label import failed_label
from mfdisco.labeller.service import stored_done
from mfdisco.labeller.settings import LabelSettings, settings_hash

__all__ = ["LabelJob", "LabelManyReport", "label_many"]

logger = logging.getLogger(__name__)

#: Seconds between looks at which submitted tasks Ray runs.
STATE_POLL_S = 5.0


@dataclass(frozen=True)
class LabelJob:
    """One label to compute: a stored structure at a fidelity with settings."""

    structure_id: int
    fidelity: Fidelity
    settings: LabelSettings


@dataclass
class LabelManyReport:
    """What ``label_many`` did.

    Attributes:
        skipped: jobs whose label was already stored as done (no work).
        outcomes: status of each computed label (done, failed, refused).
        errors: (structure id, fidelity, error) of the labels not done.
    """

    skipped: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def _run_task(crystal: dict, fidelity: str, settings: dict) -> Label:
    """Body of one Ray task: the label in a child process with timeout and memory cap."""
    return label_isolated(Crystal.from_dict(crystal), Fidelity.parse(fidelity), LabelSettings(**settings))


def label_many(
    engine: Engine,
    jobs: Sequence[LabelJob],
    *,
    cpus_per_task: int = 1,
    max_retries: int = 2,
    campaign_id: int | None = None,
    cycle_id: int | None = None,
    on_finished: Callable[[LabelJob, Label | None], None] | None = None,
    order: Literal["longest_first", "as_given"] = "longest_first",
) -> LabelManyReport:
    """Compute the labels of ``jobs`` as Ray tasks (Ray must be initialised).

    Args:
        engine: the database, written by this (driver) process only.
        jobs: what to label.
        cpus_per_task: CPUs each task declares; the calculation uses as many threads.
        max_retries: Ray retries of a task whose worker died.
        campaign_id, cycle_id: provenance recorded with new labels.
        on_finished: called after each job (``None`` label for a skipped one), e.g. a progress bar.
        order: ``longest_first`` (the least wall time on several workers, see
            :func:`_longest_first`) or ``as_given`` (submission in the order of ``jobs``,
            e.g. cheapest first so that a long background run stores the most labels soonest).

    Raises:
        ValueError: an unknown ``order``.
        LookupError: a job's structure is not in the database.
    """
    import ray

    if order not in ("longest_first", "as_given"):
        raise ValueError(f"order must be 'longest_first' or 'as_given', got {order!r}")

    report = LabelManyReport()
    task = ray.remote(num_cpus=cpus_per_task, max_retries=max_retries)(_run_task)
    crystals: dict[int, Crystal] = {}
    for structure_id in {job.structure_id for job in jobs}:  # all known before anything is submitted
        row = get_structure(engine, structure_id)
        if row is None:
            raise LookupError(f"no structure with id {structure_id}")
        crystals[structure_id] = structure_to_crystal(row)
    submit: list[LabelJob] = []
    for job in jobs:
        if stored_done(engine, job.structure_id, job.fidelity, job.settings) is not None:
            report.skipped += 1
            if on_finished is not None:
                on_finished(job, None)
        else:
            submit.append(job)
    if order == "longest_first":
        submit = _longest_first(submit, crystals)
    keys = {id(job): _in_flight(job) for job in submit}
    mark_in_flight(engine, list(keys.values()), "pending", campaign_id, cycle_id)
    pending: dict[ray.ObjectRef, LabelJob] = {}
    for job in submit:
        settings = job.settings.model_copy(update={"threads": cpus_per_task})
        reference = task.remote(crystals[job.structure_id].to_dict(), job.fidelity.value, settings.model_dump(mode="json"))
        pending[reference] = job
    watcher = _RunningWatcher()
    while pending:
        finished, _ = ray.wait(list(pending), num_returns=1, timeout=STATE_POLL_S)
        if not finished:
            started = [keys[id(pending[ref])] for ref in watcher.newly_running(pending)]
            mark_in_flight(engine, started, "running")
            continue
        job = pending.pop(finished[0])
        try:
            result: Label = ray.get(finished[0])
        except ray.exceptions.RayError as error:  # retries exhausted: record the loss
            result = failed_label(job.fidelity, job.settings, f"Ray task failed after {max_retries} retries: {type(error).__name__}: {error}")
        record_label(engine, job.structure_id, result, campaign_id=campaign_id, cycle_id=cycle_id)
        report.outcomes[result.status] += 1
        if result.status != "done":
            report.errors.append((job.structure_id, job.fidelity.value, result.error or ""))
        if on_finished is not None:
            on_finished(job, result)
    return report


def _longest_first(jobs: list[LabelJob], crystals: dict[int, Crystal]) -> list[LabelJob]:
    """The jobs of each fidelity, in the fidelities' order of first appearance, longest estimated first.

    Ray starts tasks in submission order; starting the longest first keeps every worker
    busy to the end (LPT scheduling) instead of leaving one long label alone at the end.
    The estimate is n_AO² × N_k of the built cell (the density-fitting and SCF work grow
    with it); a structure that cannot be built (refused) counts as free.
    """
    from mfdisco.labeller.cost import estimate_cost

    def weight(job: LabelJob) -> float:
        try:
            estimate = estimate_cost(crystals[job.structure_id], job.fidelity, job.settings)
        except Exception:  # noqa: BLE001 - unsupported element: the label is refused at once
            return 0.0
        return float(estimate.n_ao) ** 2 * estimate.n_kpts

    order = list(dict.fromkeys(job.fidelity for job in jobs))
    return [job for fidelity in order for job in sorted((j for j in jobs if j.fidelity is fidelity), key=weight, reverse=True)]


def _in_flight(job: LabelJob) -> InFlight:
    return InFlight(job.structure_id, job.fidelity.value, settings_hash(job.fidelity, job.settings), job.settings.model_dump(mode="json"))


class _RunningWatcher:
    """Which submitted tasks Ray reports running (its state API; off where the dashboard does not run)."""

    def __init__(self) -> None:
        self.enabled = True
        self.seen: set[str] = set()

    def newly_running(self, pending: dict) -> list:  # {ObjectRef: LabelJob} -> [ObjectRef]
        if not self.enabled:
            return []
        from ray.util.state import list_tasks

        try:
            running = {t.task_id for t in list_tasks(filters=[("state", "=", "RUNNING")], limit=10_000, timeout=5, raise_on_missing_output=False)}
        except Exception as error:  # noqa: BLE001 - no dashboard (state API) in this cluster: keep 'pending'
            logger.debug("task states unavailable (%s); labels in flight stay 'pending'", error)
            self.enabled = False
            return []
        fresh = [ref for ref in pending if ref.task_id().hex() in running and ref.task_id().hex() not in self.seen]
        self.seen.update(ref.task_id().hex() for ref in fresh)
        return fresh
