"""Labels of stored structures: computed once, then read from the database."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import calculation_to_label, find_calculation, get_structure, record_label, structure_to_crystal
from mfdisco.labeller.isolation import label_isolated
from mfdisco.labeller.settings import LabelSettings, settings_hash

__all__ = ["label_structure", "stored_done"]

logger = logging.getLogger(__name__)

Runner = Callable[[Crystal, Fidelity, LabelSettings], Label]


def stored_done(engine: Engine, structure_id: int, fidelity: Fidelity, settings: LabelSettings):  # noqa: ANN201 - Calculation
    """The stored ``done`` calculation for this structure, fidelity and settings, or None."""
    stored = find_calculation(engine, structure_id, fidelity, settings_hash(fidelity, settings))
    return stored if stored is not None and stored.status == "done" else None


def label_structure(
    engine: Engine,
    structure_id: int,
    fidelity: Fidelity | str,
    settings: LabelSettings | None = None,
    *,
    campaign_id: int | None = None,
    cycle_id: int | None = None,
    runner: Runner = label_isolated,
) -> Label:
    """The label of a stored structure: the stored one when done, else computed and stored.

    A ``done`` label with the same (structure, fidelity, settings hash) is returned
    without any computation. Otherwise ``runner`` (by default a child process with
    timeout and memory cap) computes it and the outcome, done or not, is recorded.

    Raises:
        LookupError: no structure with that id.
    """
    fidelity = Fidelity.parse(fidelity)
    settings = settings or LabelSettings()
    stored = stored_done(engine, structure_id, fidelity, settings)
    if stored is not None:
        logger.debug("structure %d at %s: stored label reused", structure_id, fidelity.value)
        return calculation_to_label(stored)
    row = get_structure(engine, structure_id)
    if row is None:
        raise LookupError(f"no structure with id {structure_id}")
    result = runner(structure_to_crystal(row), fidelity, settings)
    record_label(engine, structure_id, result, campaign_id=campaign_id, cycle_id=cycle_id)
    return result
