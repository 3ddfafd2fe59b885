"""Labels in the ``calculations`` table: one row per (structure, fidelity, settings hash)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, or_, select

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db.engine import read_session, write_session
from mfdisco.db.models import Calculation, Structure
from mfdisco.db.structures import structure_to_crystal

__all__ = ["find_calculation", "record_label", "mark_in_flight", "InFlight", "calculation_to_label", "done_labels"]


def find_calculation(engine: Engine, structure_id: int, fidelity: Fidelity | str, settings_hash: str) -> Calculation | None:
    """The stored row for this structure, fidelity and settings, if any (detached)."""
    statement = select(Calculation).where(
        Calculation.structure_id == structure_id,
        Calculation.fidelity == Fidelity.parse(fidelity).value,
        Calculation.settings_hash == settings_hash,
    )
    with read_session(engine) as session:
        return session.scalars(statement).one_or_none()


def record_label(engine: Engine, structure_id: int, label: Label, campaign_id: int | None = None, cycle_id: int | None = None) -> int:
    """Store a label and return its row id.

    A ``done`` row is never overwritten (a label is computed once). A row that is not
    done (pending, running, failed, refused) is replaced by the new outcome and its
    ``attempts`` counter increased. One transaction: on error nothing changes.
    """
    values = _values(label)
    with write_session(engine) as session:
        row = session.scalars(
            select(Calculation).where(
                Calculation.structure_id == structure_id,
                Calculation.fidelity == label.fidelity.value,
                Calculation.settings_hash == label.settings_hash,
            )
        ).one_or_none()
        if row is None:
            row = Calculation(structure_id=structure_id, campaign_id=campaign_id, cycle_id=cycle_id, attempts=0, **values)
            session.add(row)
        elif row.status != "done":
            for key, value in values.items():
                setattr(row, key, value)
        else:
            return row.id
        row.attempts = (row.attempts or 0) + 1
        session.flush()
        return row.id


@dataclass(frozen=True)
class InFlight:
    """A label submitted for computation: its key and the settings it runs with (JSON)."""

    structure_id: int
    fidelity: str
    settings_hash: str
    settings: dict[str, Any]


def mark_in_flight(
    engine: Engine, labels: Sequence[InFlight], status: Literal["pending", "running"], campaign_id: int | None = None, cycle_id: int | None = None
) -> int:
    """Record labels as submitted (``pending``) or started (``running``), in one transaction.

    A missing row is created (``attempts`` 0, which :func:`record_label` then counts);
    ``pending`` also re-opens a failed or refused row that is being computed again;
    ``running`` moves only ``pending`` rows and stamps ``started_at``. A ``done`` row is
    never touched, nor is an outcome recorded meanwhile.

    Returns:
        How many rows changed.
    """
    if not labels:
        return 0
    movable = {"pending": ("failed", "refused", "running"), "running": ("pending",)}[status]
    changed = 0
    now = datetime.now(UTC)
    with write_session(engine) as session:
        for item in labels:
            row = session.scalars(
                select(Calculation).where(
                    Calculation.structure_id == item.structure_id,
                    Calculation.fidelity == item.fidelity,
                    Calculation.settings_hash == item.settings_hash,
                )
            ).one_or_none()
            if row is None and status == "pending":
                session.add(Calculation(
                    structure_id=item.structure_id, fidelity=item.fidelity, settings_hash=item.settings_hash, settings=item.settings,
                    status="pending", attempts=0, campaign_id=campaign_id, cycle_id=cycle_id,
                ))
                changed += 1
            elif row is not None and row.status in movable:
                row.status = status
                if status == "running":
                    row.started_at = now
                changed += 1
    return changed


def _values(label: Label) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "fidelity": label.fidelity.value,
        "settings_hash": label.settings_hash,
        "settings": label.settings,
        "details": _clean(label.details),
        "status": label.status,
        "energy_ev": label.energy_ev,
        "energy_per_atom_ev": label.energy_per_atom_ev,
        "forces": label.forces_ev_per_a,
        "stress": label.stress_ev_per_a3,
        "magnetic_moment": label.magnetic_moment,
        "descriptors": _clean(label.descriptors) if label.descriptors is not None else None,
        "converged": label.converged,
        "error": label.error,
        "wall_time_s": label.wall_time_s,
        "versions": label.versions,
        "finished_at": now,
    }


def _clean(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def calculation_to_label(row: Calculation) -> Label:
    """The :class:`Label` stored in a row."""
    return Label(
        fidelity=Fidelity.parse(row.fidelity),
        settings=dict(row.settings or {}),
        settings_hash=row.settings_hash,
        status=row.status,  # type: ignore[arg-type]
        energy_ev=row.energy_ev,
        energy_per_atom_ev=row.energy_per_atom_ev,
        forces_ev_per_a=row.forces,
        stress_ev_per_a3=row.stress,
        converged=row.converged,
        magnetic_moment=row.magnetic_moment,
        descriptors=row.descriptors,
        details=dict(row.details or {}),
        wall_time_s=row.wall_time_s,
        versions=row.versions or {},
        error=row.error,
    )


def done_labels(engine: Engine, settings_hashes: dict[Fidelity, str]) -> list[tuple[int, Crystal, Label]]:
    """Every finished label at the given fidelities and settings, with its structure.

    Args:
        settings_hashes: for each wanted fidelity, the settings hash of its labels
            (energies are comparable only at one settings family).

    Returns:
        (structure id, crystal, label) triples ordered by structure id and fidelity.
    """
    if not settings_hashes:
        return []
    wanted = [(Calculation.fidelity == f.value) & (Calculation.settings_hash == h) for f, h in settings_hashes.items()]
    statement = (
        select(Calculation, Structure)
        .join(Structure, Structure.id == Calculation.structure_id)
        .where(Calculation.status == "done", or_(*wanted))
        .order_by(Calculation.structure_id, Calculation.fidelity)
    )
    with read_session(engine) as session:
        return [(structure.id, structure_to_crystal(structure), calculation_to_label(row)) for row, structure in session.execute(statement)]
