"""Campaign state: campaigns, cycles, candidates and hull distances.

Everything a campaign needs to resume lives in these rows. A cycle moves through
``created → selected → labelled → evaluated → finished``; each step's results and the
step's status are written in one transaction, so after a crash the cycle restarts
exactly at the first step that has not finished.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select

from mfdisco.core import Crystal, Fidelity, MfdiscoError
from mfdisco.db.engine import read_session, write_session
from mfdisco.db.models import Calculation, Campaign, Candidate, Cycle, HullDistance, Structure
from mfdisco.db.structures import NewStructure, add_structures_in, structure_to_crystal

__all__ = [
    "CYCLE_STEPS",
    "CampaignError",
    "CandidateRecord",
    "create_campaign",
    "find_campaign",
    "set_campaign_status",
    "open_cycle",
    "cycles_of",
    "update_cycle",
    "store_candidates",
    "selected_structures",
    "candidates_of_cycle",
    "replace_hull_distances",
    "hull_distances_of",
    "structures_within",
    "calculation_counts",
    "cycle_discoveries",
]

#: The steps of a cycle, in order; a cycle's status is the last step it finished.
CYCLE_STEPS: tuple[str, ...] = ("created", "selected", "labelled", "evaluated", "finished")


class CampaignError(MfdiscoError, ValueError):
    """A campaign that exists when it should not, or is missing when it should exist."""


@dataclass(frozen=True)
class CandidateRecord:
    """A scored candidate of one cycle (energies in eV/atom).

    Attributes:
        crystal: the (relaxed) structure.
        predictions: per fidelity ``{"mean", "std"}`` of the ensemble's energy per atom.
        ef_pbe, ef_ccsd_t: predicted formation energies per atom.
        std_ccsd_t: ensemble std of the CCSD(T) prediction.
        divergence, uncertainty, score: D, U (raw) and S.
        rank: 1 for the best score.
        selected: chosen for labelling.
        properties: stored with a new structure (e.g. its relaxation, its q).
    """

    crystal: Crystal
    predictions: Mapping[str, Any]
    ef_pbe: float | None
    ef_ccsd_t: float | None
    std_ccsd_t: float | None
    divergence: float | None
    uncertainty: float | None
    score: float | None
    rank: int | None
    selected: bool
    properties: Mapping[str, Any] = field(default_factory=dict)


def create_campaign(engine: Engine, name: str, config: Mapping[str, Any], hit_threshold_ev_per_atom: float) -> int:
    """Create a campaign row and return its id.

    Raises:
        CampaignError: a campaign of that name exists (resume it instead).
    """
    if not name or len(name) > 200:
        raise CampaignError(f"campaign name must have 1-200 characters, got {name!r}")
    with write_session(engine) as session:
        if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
            raise CampaignError(f"campaign {name!r} exists; resume it with --resume {name} or choose another --name")
        row = Campaign(name=name, status="running", config=dict(config), hit_threshold_ev_per_atom=hit_threshold_ev_per_atom)
        session.add(row)
        session.flush()
        return row.id


def find_campaign(engine: Engine, name: str) -> Campaign | None:
    """The campaign called ``name`` (detached), or None."""
    with read_session(engine) as session:
        return session.scalars(select(Campaign).where(Campaign.name == name)).one_or_none()


def set_campaign_status(engine: Engine, campaign_id: int, status: str, notes: str | None = None, finished: bool = False) -> None:
    """Set a campaign's status (and notes; ``finished`` stamps the end time)."""
    with write_session(engine) as session:
        row = session.get(Campaign, campaign_id)
        row.status = status
        if notes is not None:
            row.notes = notes
        if finished:
            row.finished_at = datetime.now(UTC)


def open_cycle(engine: Engine, campaign_id: int, number: int) -> Cycle:
    """Cycle ``number`` of the campaign, created (status ``created``) when missing."""
    with write_session(engine) as session:
        row = session.scalars(select(Cycle).where(Cycle.campaign_id == campaign_id, Cycle.number == number)).one_or_none()
        if row is None:
            row = Cycle(campaign_id=campaign_id, number=number, status="created")
            session.add(row)
            session.flush()
        return row


def cycles_of(engine: Engine, campaign_id: int) -> list[Cycle]:
    """The campaign's cycles by number (detached)."""
    with read_session(engine) as session:
        return list(session.scalars(select(Cycle).where(Cycle.campaign_id == campaign_id).order_by(Cycle.number)))


def update_cycle(engine: Engine, cycle_id: int, **values: Any) -> None:
    """Set columns of a cycle in one transaction (``status="finished"`` also stamps the end time).

    Raises:
        ValueError: an unknown column or status.
    """
    if "status" in values and values["status"] not in CYCLE_STEPS:
        raise ValueError(f"cycle status {values['status']!r} is not one of {CYCLE_STEPS}")
    with write_session(engine) as session:
        row = session.get(Cycle, cycle_id)
        for key, value in values.items():
            if not hasattr(Cycle, key):
                raise ValueError(f"cycles has no column {key!r}")
            setattr(row, key, value)
        if values.get("status") == "finished":
            row.finished_at = datetime.now(UTC)


def store_candidates(engine: Engine, campaign_id: int, cycle_id: int, records: Sequence[CandidateRecord], cycle_values: Mapping[str, Any]) -> list[int]:
    """Store a cycle's scored candidates (new structures included) and its counts, in one transaction.

    The cycle's earlier candidate rows (of an interrupted attempt) are replaced, and the
    cycle's status becomes ``selected`` together with ``cycle_values``.

    Returns:
        The structure id of each record.
    """
    with write_session(engine) as session:
        session.execute(delete(Candidate).where(Candidate.cycle_id == cycle_id))
        added = add_structures_in(
            session,
            [NewStructure(r.crystal, "generator", None, dict(r.properties), campaign_id=campaign_id, cycle_id=cycle_id) for r in records],
        )
        seen: set[int] = set()
        for structure_id, record in zip(added.ids, records, strict=True):
            if structure_id in seen:
                continue
            seen.add(structure_id)
            session.add(
                Candidate(
                    cycle_id=cycle_id,
                    structure_id=structure_id,
                    predictions=dict(record.predictions),
                    pred_ef_pbe_ev_per_atom=record.ef_pbe,
                    pred_ef_ccsd_t_ev_per_atom=record.ef_ccsd_t,
                    pred_std_ccsd_t_ev_per_atom=record.std_ccsd_t,
                    divergence=record.divergence,
                    uncertainty=record.uncertainty,
                    score=record.score,
                    rank=record.rank,
                    selected=record.selected,
                    is_novel=True,
                )
            )
        row = session.get(Cycle, cycle_id)
        for key, value in cycle_values.items():
            setattr(row, key, value)
        row.status = "selected"
        return added.ids


def candidates_of_cycle(engine: Engine, cycle_id: int) -> list[Candidate]:
    """The cycle's candidate rows by rank (detached)."""
    with read_session(engine) as session:
        return list(session.scalars(select(Candidate).where(Candidate.cycle_id == cycle_id).order_by(Candidate.rank)))


def selected_structures(engine: Engine, cycle_id: int) -> list[tuple[int, Crystal]]:
    """(structure id, crystal) of the cycle's selected candidates, best rank first."""
    statement = (
        select(Structure)
        .join(Candidate, Candidate.structure_id == Structure.id)
        .where(Candidate.cycle_id == cycle_id, Candidate.selected.is_(True))
        .order_by(Candidate.rank)
    )
    with read_session(engine) as session:
        return [(row.id, structure_to_crystal(row)) for row in session.scalars(statement)]


def replace_hull_distances(
    engine: Engine, campaign_id: int, cycle_id: int | None, fidelity: Fidelity, settings_hash: str, results: Mapping[int, tuple[float, float]]
) -> None:
    """Replace the campaign's hull distances at ``fidelity`` by ``results`` (structure id → (ΔE_f, E_hull), eV/atom).

    A structure keeps the cycle of its first hull row (the cycle it was first placed in).
    """
    with write_session(engine) as session:
        first_cycle = dict(
            session.execute(
                select(HullDistance.structure_id, HullDistance.cycle_id).where(HullDistance.campaign_id == campaign_id, HullDistance.fidelity == fidelity.value)
            ).all()
        )
        session.execute(delete(HullDistance).where(HullDistance.campaign_id == campaign_id, HullDistance.fidelity == fidelity.value))
        for structure_id, (formation, above) in results.items():
            session.add(
                HullDistance(
                    campaign_id=campaign_id,
                    structure_id=structure_id,
                    fidelity=fidelity.value,
                    settings_hash=settings_hash,
                    formation_energy_per_atom_ev=formation,
                    e_above_hull_per_atom_ev=above,
                    cycle_id=first_cycle.get(structure_id, cycle_id),
                )
            )


def hull_distances_of(engine: Engine, campaign_id: int, fidelity: Fidelity) -> dict[int, tuple[float, float]]:
    """Structure id → (ΔE_f, E_hull) in eV/atom of the campaign at ``fidelity``."""
    statement = select(HullDistance.structure_id, HullDistance.formation_energy_per_atom_ev, HullDistance.e_above_hull_per_atom_ev).where(
        HullDistance.campaign_id == campaign_id, HullDistance.fidelity == fidelity.value
    )
    with read_session(engine) as session:
        return {sid: (ef, eh) for sid, ef, eh in session.execute(statement)}


def structures_within(engine: Engine, elements: Sequence[str] | None, max_sites: int | None = None) -> list[tuple[int, Crystal, dict[str, Any]]]:
    """(id, crystal, properties) of every stored structure made only of ``elements`` (None: any) with at most ``max_sites`` sites."""
    allowed = None if elements is None else set(elements)
    statement = select(Structure).order_by(Structure.id)
    if max_sites is not None:
        statement = statement.where(Structure.nsites <= max_sites)
    with read_session(engine) as session:
        return [
            (row.id, structure_to_crystal(row), dict(row.properties or {}))
            for row in session.scalars(statement)
            if allowed is None or set(row.elements.split("-")) <= allowed
        ]


def calculation_counts(engine: Engine, campaign_id: int) -> Counter:
    """(fidelity, status) → number of the campaign's calculation rows."""
    statement = select(Calculation.fidelity, Calculation.status, func.count()).where(Calculation.campaign_id == campaign_id).group_by(Calculation.fidelity, Calculation.status)
    with read_session(engine) as session:
        return Counter({(f, s): int(n) for f, s, n in session.execute(statement)})


def cycle_discoveries(engine: Engine, campaign_id: int, threshold_ev_per_atom: float) -> dict[int, list[int]]:
    """Cycle number → structure ids of its selected candidates with E_hull(ccsd_t) ≤ threshold."""
    statement = (
        select(Cycle.number, Candidate.structure_id)
        .join(Candidate, Candidate.cycle_id == Cycle.id)
        .join(HullDistance, (HullDistance.structure_id == Candidate.structure_id) & (HullDistance.campaign_id == Cycle.campaign_id))
        .where(
            Cycle.campaign_id == campaign_id,
            Candidate.selected.is_(True),
            Candidate.is_novel.is_(True),
            HullDistance.fidelity == Fidelity.CCSD_T.value,
            HullDistance.e_above_hull_per_atom_ev <= threshold_ev_per_atom,
        )
    )
    found: dict[int, list[int]] = {}
    with read_session(engine) as session:
        for number, structure_id in session.execute(statement):
            found.setdefault(number, []).append(structure_id)
    return found
