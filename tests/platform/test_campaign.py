"""End to end: a 2-cycle campaign on tiny models and gth-szv cells through Ray and SQLite; crash and resume.

Real PySCF (gth-szv, small cutoff), real MACE, real diffusion model and a real local Ray
cluster; only their sizes are small.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from mfdisco.db import Calculation, Candidate, Cycle, HullDistance, Model, make_engine, read_session, upgrade

TINY = {
    # gth-szv for DFT; CCSD(T) needs virtual orbitals that Mg's szv basis lacks, so it keeps its default basis
    "labeller": {"settings": {"basis": "gth-szv", "ke_cutoff_ha": 60.0, "timeout_s": 600, "max_scf_cycles": 50, "max_cc_cycles": 15}, "per_fidelity": {"ccsd_t": {"basis": "auto"}}, "cpus_per_task": 1},
    "ray": {"num_cpus": 2, "include_dashboard": False},
    "logging": {"level": "INFO"},
    "campaign": {
        "elements": ["Mg", "O"], "max_atoms": 2, "n_candidates": 6, "k_select": 1, "max_cycles": 2, "relax_steps": 3,
        # the 8-second generator proposes compressed cells (Mg-O 1.0-1.3 Å): the contact screen
        # would drop them all and leave nothing to label, so it is off; their szv PBE climbs the
        # whole SCF ladder (295 s measured) and is recorded as failed at 45 s (CCSD(T): 18 s)
        "min_contact_ratio": 0.0, "label_timeout_s": 45, "pool_file": None, "generator_time_s": 8, "generator_finetune_time_s": 4, "generator_max_atoms": 4, "proxy_epochs": 5,
        "validator": {"num_channels": 8, "max_l": 0, "correlation": 1, "num_interactions": 1, "radial_mlp": [8], "epochs": 4,
                      "ensemble_size": 2, "dtype": "float32", "threads": 1, "delta_to_pbe": True},
        "generator": {"hidden": 16, "layers": 1, "sample_steps": 10, "corrector_steps": 0, "diffusion_steps": 50, "threads": 1},
    },
}


def _config(tmp_path: Path, **campaign: object) -> Path:
    tree = {**TINY, "db": {"url": f"sqlite:///{tmp_path / 'campaign.db'}"}, "campaign": {**TINY["campaign"], "work_dir": str(tmp_path / "runs"), **campaign}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


def _mfdisco(config: Path, *args: str, **kwargs: object) -> subprocess.Popen:
    env = {**os.environ, "MFDISCO_CONFIG": str(config), "RAY_ADDRESS": ""}
    return subprocess.Popen([sys.executable, "-m", "mfdisco.platform.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kwargs)


def _count(engine, statement) -> int:  # noqa: ANN001
    with read_session(engine) as session:
        return int(session.scalar(statement) or 0)


@pytest.mark.timeout(600)
def test_two_cycle_campaign_end_to_end(tmp_path: Path) -> None:
    # ECE gate 1: select by S from the first cycle on, with the stability window
    config = _config(tmp_path, ece_gate=1.0, stability_window_ev_per_atom=0.1)
    process = _mfdisco(config, "run", "--name", "e2e")
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    assert "campaign e2e: stopped, reached max_cycles (2)" in output
    engine = make_engine(f"sqlite:///{tmp_path / 'campaign.db'}")
    with read_session(engine) as session:
        cycles = session.scalars(select(Cycle).order_by(Cycle.number)).all()
        assert [c.status for c in cycles] == ["finished", "finished"]
        selected = session.scalars(select(Candidate).where(Candidate.selected.is_(True))).all()
        assert 1 <= len(selected) <= 2
        # a cycle bootstraps only while the validator has no held-out CCSD(T) ECE (before any candidate's label)
        assert [c.mode for c in cycles] == ["bootstrap" if c.ece is None else "selection" for c in cycles]
        assert all(c.predictions["ccsd_t"]["e_hull"] is not None for c in session.scalars(select(Candidate)).all())
        for cycle in (c for c in cycles if c.mode == "selection"):  # inside the window (E_hull - σ <= 0.1 eV/atom) ranks first
            rows = session.scalars(select(Candidate).where(Candidate.cycle_id == cycle.id).order_by(Candidate.rank)).all()
            inside = [c.predictions["ccsd_t"]["e_hull"] - c.predictions["ccsd_t"]["std"] <= 0.1 for c in rows]
            assert inside == sorted(inside, reverse=True), inside
        for candidate in selected:  # PBE and CCSD(T) labels of every selected candidate, once each
            fidelities = session.scalars(select(Calculation.fidelity).where(Calculation.structure_id == candidate.structure_id)).all()
            assert sorted(fidelities) == ["ccsd_t", "pbe"]
        assert session.scalar(select(func.count()).select_from(Calculation).where(Calculation.attempts != 1)) == 0
        kinds = dict(session.execute(select(Model.kind, func.count()).group_by(Model.kind)).all())
        assert kinds["validator"] == 3 and kinds["proxy"] == 3 and kinds["generator"] == 1  # start + every cycle; generator once
        # every structure with a finished CCSD(T) label (the Mg and O references at least) has a hull
        # distance; a candidate's label may fail (the generator trains for 8 s of wall time, so which
        # cells it proposes depends on the machine) and then must say why
        done_cc = set(session.scalars(select(Calculation.structure_id).where(Calculation.fidelity == "ccsd_t", Calculation.status == "done")).all())
        hulls = set(session.scalars(select(HullDistance.structure_id).where(HullDistance.fidelity == "ccsd_t")).all())
        assert hulls == done_cc and len(hulls) >= 2
        errors = session.scalars(select(Calculation.error).where(Calculation.status != "done")).all()
        assert all(errors), "a failed label without its reason"
    status = _mfdisco(config, "status")
    text, _ = status.communicate(timeout=120)
    assert status.returncode == 0 and "e2e" in text and "cycles of e2e" in text


@pytest.mark.timeout(900)
def test_kill_driver_mid_labelling_then_resume(tmp_path: Path) -> None:
    config = _config(tmp_path, max_cycles=1)
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    process = _mfdisco(config, "run", "--name", "crash")
    engine = make_engine(url)
    deadline = time.monotonic() + 400
    in_flight = select(func.count()).select_from(Calculation).where(Calculation.cycle_id.is_not(None), Calculation.status.in_(("pending", "running")))
    while time.monotonic() < deadline:  # wait until cycle 1's labels are in flight
        time.sleep(1)
        if (tmp_path / "campaign.db").exists():
            upgrade(engine)
            if _count(engine, select(func.count()).select_from(Cycle).where(Cycle.status == "selected")) and _count(engine, in_flight):
                break
        assert process.poll() is None, process.stdout.read()[-3000:]
    else:
        pytest.fail("cycle 1 never reached labelling")
    time.sleep(1)
    # kill -9 of the driver and of everything it started (its local Ray cluster and workers)
    subprocess.run(["pkill", "-KILL", "-s", str(process.pid)], check=False)
    process.wait()
    finished = Calculation.status.in_(("done", "failed", "refused"))
    before = _count(engine, select(func.count()).select_from(Calculation).where(Calculation.cycle_id.is_not(None), finished))
    assert before < 2, "the crash came too late: every label of the cycle was already stored"
    assert _count(engine, in_flight) == 2 - before  # the labels in flight are visible as pending or running
    resumed = _mfdisco(config, "run", "--resume", "crash")
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output[-3000:]
    with read_session(engine) as session:
        assert session.scalar(select(Cycle.status)) == "finished"
        n_selected = session.scalar(select(func.count()).select_from(Candidate).where(Candidate.selected.is_(True)))
        rows = session.execute(select(Calculation.structure_id, Calculation.fidelity, Calculation.attempts).where(Calculation.cycle_id.is_not(None))).all()
    assert len(rows) == 2 * n_selected  # exact: PBE and CCSD(T) of each selected candidate
    assert len({(s, f) for s, f, _ in rows}) == len(rows)  # no duplicate calculation rows
    assert all(attempts == 1 for _, _, attempts in rows)  # a label lost in flight was computed once more, never twice
