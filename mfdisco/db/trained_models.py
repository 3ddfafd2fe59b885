"""Rows of the ``models`` table: trained generators, validators and descriptor proxies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from mfdisco.db.engine import read_session, write_session
from mfdisco.db.models import Model

__all__ = ["add_model", "latest_model"]


def add_model(
    engine: Engine,
    kind: str,
    backend: str,
    path: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    training_set_size: int,
    training_set_hash: str | None,
    campaign_id: int | None = None,
    cycle_id: int | None = None,
) -> tuple[int, int]:
    """Record a saved model as the next version of its kind; returns (row id, version)."""
    with write_session(engine) as session:
        version = (session.scalar(select(func.max(Model.version)).where(Model.kind == kind)) or 0) + 1
        row = Model(
            kind=kind,
            backend=backend,
            version=version,
            path=path,
            config=config,
            metrics=metrics,
            training_set_size=training_set_size,
            training_set_hash=training_set_hash,
            campaign_id=campaign_id,
            cycle_id=cycle_id,
        )
        session.add(row)
        session.flush()
        return row.id, version


def latest_model(engine: Engine, kind: str, campaign_id: int | None = None) -> Model | None:
    """The newest model of ``kind`` (of the campaign, if given), or None."""
    with read_session(engine) as session:
        query = select(Model).where(Model.kind == kind)
        if campaign_id is not None:
            query = query.where(Model.campaign_id == campaign_id)
        return session.scalars(query.order_by(Model.version.desc()).limit(1)).first()
