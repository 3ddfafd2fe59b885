"""The tables of the mfdisco database (SQLAlchemy 2.0 typed ORM).

Units in every table: energies in eV (totals, ``*_ev``) and eV/atom
(``*_per_atom_ev``), lengths in Å, volumes in Å³, densities in g/cm³, times in s.
JSON columns hold plain lists and dicts (JSONB on PostgreSQL). The schema is created
and changed only by the Alembic migrations in ``mfdisco/db/migrations``; a test checks
that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mfdisco.core import Fidelity

__all__ = [
    "Base",
    "Campaign",
    "Cycle",
    "Structure",
    "Calculation",
    "Candidate",
    "HullDistance",
    "Model",
    "CALCULATION_STATUSES",
    "FIDELITY_VALUES",
]

#: JSON everywhere, stored as JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")
FIDELITY_VALUES: tuple[str, ...] = tuple(f.value for f in Fidelity)
#: Lifecycle of a calculation row.
CALCULATION_STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed", "refused")

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (needed by migrations)."""

    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType}


class _Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Campaign(_Timestamped, Base):
    """One active-learning campaign and its validated config."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="created")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: A discovery has e_above_hull(ccsd_t) at or below this (eV/atom).
    hit_threshold_ev_per_atom: Mapped[float] = mapped_column(Float, default=0.1)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)


class Cycle(_Timestamped, Base):
    """One cycle of a campaign: sample, filter, predict, select, label, retrain."""

    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="running")
    #: "bootstrap" (diverse batch before the ensemble is calibrated) or "selection".
    mode: Mapped[str] = mapped_column(String(32), default="bootstrap")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    n_generated: Mapped[int] = mapped_column(Integer, default=0)
    n_valid: Mapped[int] = mapped_column(Integer, default=0)
    n_novel: Mapped[int] = mapped_column(Integer, default=0)
    n_selected: Mapped[int] = mapped_column(Integer, default=0)
    n_labelled: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    n_discoveries: Mapped[int] = mapped_column(Integer, default=0)
    hit_rate: Mapped[float | None] = mapped_column(Float)
    max_divergence_ev_per_atom: Mapped[float | None] = mapped_column(Float)
    ece: Mapped[float | None] = mapped_column(Float)
    failure_signatures: Mapped[list[Any]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Structure(_Timestamped, Base):
    """A unique crystal structure (unique on its canonical hash)."""

    __tablename__ = "structures"
    __table_args__ = (Index(None, "source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash_version: Mapped[int] = mapped_column(Integer)
    #: Reduced formula, e.g. "MgFe2O4".
    formula: Mapped[str] = mapped_column(String(200), index=True)
    #: Chemical system: distinct elements, alphabetical, dash-joined ("Fe-Mg-O").
    elements: Mapped[str] = mapped_column(String(200), index=True)
    n_elements: Mapped[int] = mapped_column(Integer)
    nsites: Mapped[int] = mapped_column(Integer)
    #: Lattice vectors as rows, Å. [3, 3]
    lattice: Mapped[list[Any]] = mapped_column()
    #: Fractional coordinates. [nsites, 3]
    frac_coords: Mapped[list[Any]] = mapped_column()
    #: Element symbol per site. [nsites]
    species: Mapped[list[Any]] = mapped_column()
    volume: Mapped[float] = mapped_column(Float)
    density: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str | None] = mapped_column(String(500))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))


class Calculation(_Timestamped, Base):
    """A label: one structure at one fidelity with one settings hash (never computed twice)."""

    __tablename__ = "calculations"
    __table_args__ = (
        UniqueConstraint("structure_id", "fidelity", "settings_hash"),
        CheckConstraint(_in("fidelity", FIDELITY_VALUES), name="fidelity"),
        CheckConstraint(_in("status", CALCULATION_STATUSES), name="status"),
        Index(None, "status", "fidelity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"), index=True)
    fidelity: Mapped[str] = mapped_column(String(16))
    settings_hash: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    energy_ev: Mapped[float | None] = mapped_column(Float)
    energy_per_atom_ev: Mapped[float | None] = mapped_column(Float)
    #: Forces in eV/Å. [nsites, 3]
    forces: Mapped[list[Any] | None] = mapped_column()
    #: Stress in eV/Å³, Voigt order. [6]
    stress: Mapped[list[Any] | None] = mapped_column()
    #: Total magnetic moment (μB per cell) of an unrestricted calculation.
    magnetic_moment: Mapped[float | None] = mapped_column(Float)
    descriptors: Mapped[dict[str, Any] | None] = mapped_column()
    #: Method-specific values: component energies (eV), SCF strategy, cost estimate, basis per element.
    details: Mapped[dict[str, Any] | None] = mapped_column()
    converged: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    wall_time_s: Mapped[float | None] = mapped_column(Float)
    versions: Mapped[dict[str, Any] | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Candidate(_Timestamped, Base):
    """A generated structure scored in a cycle: predictions, divergence D, diversity U, score S."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("cycle_id", "structure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"), index=True)
    #: Per fidelity: {"mean": eV/atom, "std": eV/atom, "formation": eV/atom} of the ensemble;
    #: ``ccsd_t`` also holds "e_hull", the predicted energy above the labelled CCSD(T) hull (eV/atom).
    predictions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pred_ef_pbe_ev_per_atom: Mapped[float | None] = mapped_column(Float)
    pred_ef_ccsd_t_ev_per_atom: Mapped[float | None] = mapped_column(Float)
    pred_std_ccsd_t_ev_per_atom: Mapped[float | None] = mapped_column(Float)
    #: D = |ΔEf_pbe - ΔEf_ccsd_t| (eV/atom), predicted.
    divergence: Mapped[float | None] = mapped_column(Float)
    #: U: diversity or ensemble uncertainty, normalised.
    uncertainty: Mapped[float | None] = mapped_column(Float)
    #: S = w_D D' + w_U U' after normalisation.
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    is_novel: Mapped[bool] = mapped_column(Boolean, default=True)


class HullDistance(Base):
    """Formation energy and energy above the convex hull of a structure in a campaign, per fidelity."""

    __tablename__ = "hull_distances"
    __table_args__ = (
        UniqueConstraint("campaign_id", "structure_id", "fidelity"),
        CheckConstraint(_in("fidelity", FIDELITY_VALUES), name="fidelity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"), index=True)
    fidelity: Mapped[str] = mapped_column(String(16))
    settings_hash: Mapped[str] = mapped_column(String(64))
    formation_energy_per_atom_ev: Mapped[float] = mapped_column(Float)
    e_above_hull_per_atom_ev: Mapped[float] = mapped_column(Float)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Model(_Timestamped, Base):
    """A trained model (generator, validator, descriptor proxy) and where its checkpoint is."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    backend: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    training_set_size: Mapped[int] = mapped_column(Integer, default=0)
    training_set_hash: Mapped[str | None] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
