"""Labels in flight: pending when submitted, running when started, then their outcome; done rows never move."""

from __future__ import annotations

from sqlalchemy import Engine, select

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import Calculation, InFlight, NewStructure, add_structures, mark_in_flight, read_session, record_label


def _rows(engine: Engine) -> dict[str, tuple[str, int]]:
    with read_session(engine) as session:
        return {row.fidelity: (row.status, row.attempts) for row in session.scalars(select(Calculation))}


def test_pending_running_then_outcome(engine: Engine, rocksalt_mgo: Crystal) -> None:
    (sid,) = add_structures(engine, [NewStructure(rocksalt_mgo, "t", "mgo")]).ids
    keys = [InFlight(sid, "pbe", "h-pbe", {"basis": "auto"}), InFlight(sid, "ccsd_t", "h-cc", {})]
    assert mark_in_flight(engine, keys, "pending") == 2
    assert _rows(engine) == {"pbe": ("pending", 0), "ccsd_t": ("pending", 0)}
    assert mark_in_flight(engine, keys[:1], "running") == 1
    with read_session(engine) as session:
        assert session.scalar(select(Calculation.started_at).where(Calculation.fidelity == "pbe")) is not None
    record_label(engine, sid, Label(Fidelity.PBE, {}, "h-pbe", "done", energy_ev=-1.0, energy_per_atom_ev=-0.125))
    record_label(engine, sid, Label(Fidelity.CCSD_T, {}, "h-cc", "failed", error="lost"))
    assert _rows(engine) == {"pbe": ("done", 1), "ccsd_t": ("failed", 1)}  # the pending row counted no attempt
    # a done row never moves; a failed one is re-opened when it is computed again
    assert mark_in_flight(engine, keys, "pending") == 1
    assert mark_in_flight(engine, keys, "running") == 1
    assert _rows(engine) == {"pbe": ("done", 1), "ccsd_t": ("running", 1)}
    assert mark_in_flight(engine, [], "pending") == 0
