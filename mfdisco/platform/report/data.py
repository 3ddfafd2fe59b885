"""What a campaign report shows, read once from the database as plain values.

Energies in eV/atom. Predicted formation energies are the validator's at selection time
(before the structure was labelled), so the parity plots are out-of-sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from mfdisco import db
from mfdisco.core import Crystal, Fidelity

__all__ = ["CandidatePoint", "HullPoint", "CycleRow", "ReportData", "gather_report"]


@dataclass(frozen=True)
class CandidatePoint:
    """One scored candidate of a cycle.

    Attributes:
        structure_id: its structure.
        cycle: the cycle number.
        formula: reduced formula.
        divergence: D (eV/atom), None when not scored.
        selected: picked for labelling.
        predicted_formation: fidelity → predicted ΔE_f at selection (eV/atom).
    """

    structure_id: int
    cycle: int
    formula: str
    divergence: float | None
    selected: bool
    predicted_formation: dict[str, float]


@dataclass(frozen=True)
class HullPoint:
    """A labelled structure on a fidelity's hull: ΔE_f and E_hull (eV/atom) and its composition."""

    structure_id: int
    formula: str
    composition: dict[str, int]
    formation_energy: float
    e_above_hull: float


@dataclass(frozen=True)
class CycleRow:
    """A cycle's counts (discoveries, selected, hit rate, mode)."""

    number: int
    status: str
    mode: str
    n_selected: int
    n_discoveries: int
    hit_rate: float | None


@dataclass
class ReportData:
    """Everything the report draws.

    Attributes:
        campaign: name.
        campaign_id: id.
        status: the campaign's status.
        elements: the campaign's elements.
        fidelities: fidelities it labels (values).
        threshold: the hit threshold on E_hull(ccsd_t) (eV/atom).
        cycles: each cycle's row.
        candidates: every scored candidate.
        hull: fidelity → labelled structures with ΔE_f and E_hull.
        discoveries: rows of the ``discovered_candidates`` view.
        crystals: structure id → crystal of each discovery (for its CIF).
        summary: the ``campaign_summary`` row.
    """

    campaign: str
    campaign_id: int
    status: str
    elements: list[str]
    fidelities: list[str]
    threshold: float
    cycles: list[CycleRow] = field(default_factory=list)
    candidates: list[CandidatePoint] = field(default_factory=list)
    hull: dict[str, list[HullPoint]] = field(default_factory=dict)
    discoveries: list[dict[str, Any]] = field(default_factory=list)
    crystals: dict[int, Crystal] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def parity(self, fidelity: str) -> list[tuple[CandidatePoint, float]]:
        """(candidate, PySCF ΔE_f) of each selected candidate labelled at ``fidelity`` with a prediction there."""
        labelled = {p.structure_id: p.formation_energy for p in self.hull.get(fidelity, [])}
        return [(c, labelled[c.structure_id]) for c in self.candidates
                if c.selected and c.structure_id in labelled and fidelity in c.predicted_formation]


def gather_report(engine: Engine, campaign: str) -> ReportData:
    """Read the report's data of ``campaign``.

    Raises:
        CampaignError: no campaign of that name.
    """
    row = db.find_campaign(engine, campaign)
    if row is None:
        raise db.CampaignError(f"no campaign named {campaign!r}")
    settings = row.config.get("campaign", {}) if isinstance(row.config, dict) else {}
    data = ReportData(
        campaign=row.name, campaign_id=row.id, status=row.status, elements=list(settings.get("elements", [])),
        fidelities=[Fidelity.parse(f).value for f in settings.get("fidelities", ["pbe", "ccsd_t"])], threshold=row.hit_threshold_ev_per_atom,
    )
    formulas: dict[int, str] = {}
    compositions: dict[int, dict[str, int]] = {}

    def describe(structure_id: int) -> str:
        if structure_id not in formulas:
            structure = db.get_structure(engine, structure_id)
            crystal = db.structure_to_crystal(structure)
            formulas[structure_id] = structure.formula
            counts: dict[str, int] = {}
            for symbol in crystal.species:
                counts[symbol] = counts.get(symbol, 0) + 1
            compositions[structure_id] = counts
        return formulas[structure_id]

    for cycle in db.cycles_of(engine, row.id):
        data.cycles.append(CycleRow(cycle.number, cycle.status, cycle.mode, cycle.n_selected or 0, cycle.n_discoveries or 0, cycle.hit_rate))
        for candidate in db.candidates_of_cycle(engine, cycle.id):
            predicted = {f: float(v["formation"]) for f, v in (candidate.predictions or {}).items() if isinstance(v, dict) and v.get("formation") is not None}
            data.candidates.append(CandidatePoint(candidate.structure_id, cycle.number, describe(candidate.structure_id), candidate.divergence,
                                                  bool(candidate.selected), predicted))
    for fidelity in Fidelity:
        distances = db.hull_distances_of(engine, row.id, fidelity)
        if distances:
            data.hull[fidelity.value] = [
                HullPoint(sid, describe(sid), compositions[sid], ef, eh) for sid, (ef, eh) in sorted(distances.items())
            ]
    data.discoveries = db.discoveries_of(engine, row.id)
    for item in data.discoveries:
        data.crystals[item["structure_id"]] = db.structure_to_crystal(db.get_structure(engine, item["structure_id"]))
    data.summary = db.campaign_summary_of(engine, row.id)
    return data
