"""label_many on a local Ray cluster, and the `mfdisco label` command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from mfdisco.core import Crystal, Fidelity
from mfdisco.db import NewStructure, add_structures, find_calculation, make_engine
from mfdisco.labeller import LabelSettings, settings_hash
from mfdisco.labeller.distributed import LabelJob, label_many


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture
def zno() -> Crystal:
    return Crystal.from_species(2.28 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Zn", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_label_many_writes_each_label_and_skips_stored_ones(
    local_ray: None, engine: Engine, lih: Crystal, zno: Crystal, fast_settings: LabelSettings
) -> None:
    lih_id, zno_id = add_structures(engine, [NewStructure(lih, "t"), NewStructure(zno, "t")]).ids
    jobs = [
        LabelJob(lih_id, Fidelity.PBE, fast_settings),
        LabelJob(lih_id, Fidelity.CCSD_T, fast_settings),
        LabelJob(zno_id, Fidelity.CCSD_T, LabelSettings()),  # Zn has no HF basis: refused
    ]
    seen: list[str] = []
    report = label_many(engine, jobs, on_finished=lambda job, result: seen.append(result.status if result else "skipped"))
    assert report.outcomes == {"done": 2, "refused": 1} and report.skipped == 0
    assert sorted(seen) == ["done", "done", "refused"]
    assert report.errors[0][0] == zno_id and "Zn" in report.errors[0][2]
    row = find_calculation(engine, lih_id, Fidelity.CCSD_T, settings_hash(Fidelity.CCSD_T, fast_settings))
    assert row.status == "done" and row.details["e_t_ev"] < 0
    again = label_many(engine, jobs[:2])
    assert again.skipped == 2 and not again.outcomes


def test_label_command(local_ray: None, tmp_path: Path, lih: Crystal, monkeypatch: pytest.MonkeyPatch) -> None:
    from mfdisco.platform.cli import app

    monkeypatch.delenv("MFDISCO_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'label.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db-url", url, "db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    add_structures(engine, [NewStructure(lih, "t", "LiH")])
    settings = ["--set", "ke_cutoff_ha=60", "--set", "basis=gth-cc-dzvp", "--set", "pseudo=gth-hf-rev", "--set", "density_fit=fft"]
    result = runner.invoke(app, ["--db-url", url, "label", "-f", "pbe", "--where", "formula = 'LiH'", *settings], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "│          1 │          1 │              0 │    1 │      0 │       0 │" in result.stdout
    refused = runner.invoke(app, ["--db-url", url, "label", "-f", "pbe", "--where", "1=1; DELETE FROM structures"])
    assert refused.exit_code == 1 and "several statements" in refused.output
    engine.dispose()


def test_unknown_structure_is_refused_before_anything_runs(local_ray: None, engine: Engine, fast_settings: LabelSettings) -> None:
    with pytest.raises(LookupError, match="no structure with id 424242"):
        label_many(engine, [LabelJob(424242, Fidelity.PBE, fast_settings)])


def _our_label_workers() -> list[int]:
    """PIDs of Ray workers running a label task in this test process's own local cluster.

    Ray's local raylet is a child of the driver (this process) and its workers are the
    raylet's children, so a worker of ours has this process among its ancestors. Matching
    by session id instead killed the workers of other Ray clusters started from the same
    terminal (a pool run beside the test suite lost a label to it twice).
    """
    import os
    import subprocess

    def parent(pid: int) -> int:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])  # field 4, after the command in parentheses

    found = subprocess.run(["pgrep", "-f", "ray::_run_task"], capture_output=True, text=True).stdout.split()
    ours = []
    for pid in map(int, found):
        try:
            ancestor = pid
            while ancestor > 1 and ancestor != os.getpid():
                ancestor = parent(ancestor)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if ancestor == os.getpid():
            ours.append(pid)
    return ours


def test_worker_killed_during_a_label_task_is_retried_and_stored_once(local_ray: None, engine: Engine, lih: Crystal, fast_settings: LabelSettings) -> None:
    import os
    import signal
    import threading
    import time

    (lih_id,) = add_structures(engine, [NewStructure(lih, "t")]).ids
    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in _our_label_workers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    report = label_many(engine, [LabelJob(lih_id, Fidelity.PBE, fast_settings)], max_retries=2)
    killer.join()
    assert killed, "no label worker appeared to kill"
    assert report.outcomes == {"done": 1}  # Ray re-ran the task on a new worker
    row = find_calculation(engine, lih_id, Fidelity.PBE, settings_hash(Fidelity.PBE, fast_settings))
    assert row.status == "done" and row.attempts == 1  # stored once


def test_jobs_start_longest_first_within_each_fidelity() -> None:
    """LPT order: the big cells of each fidelity start first; the caller's fidelity order is kept."""
    from mfdisco.generator.datasets import builtin_prototypes
    from mfdisco.labeller.distributed import _longest_first

    records = {r.source_id: r.crystal for r in builtin_prototypes(["Mg", "Sr", "Ti", "O"])}
    names = ["fcc:Mg", "perovskite:SrTiO3", "hcp:Mg", "rocksalt:MgO"]
    crystals = dict(enumerate(records[n] for n in names))
    jobs = [LabelJob(i, f, LabelSettings()) for f in (Fidelity.CCSD_T, Fidelity.PBE) for i in crystals]
    ordered = _longest_first(jobs, crystals)
    assert [j.fidelity for j in ordered] == [Fidelity.CCSD_T] * 4 + [Fidelity.PBE] * 4
    assert [names[j.structure_id] for j in ordered[4:]][:1] == ["perovskite:SrTiO3"]  # 5 atoms first
    assert names[ordered[-1].structure_id] == "fcc:Mg"  # the 1-atom cell last
    assert sorted(id(j) for j in ordered) == sorted(id(j) for j in jobs)


def test_an_unknown_submission_order_is_named(tmp_path) -> None:  # noqa: ANN001
    from mfdisco.db import make_engine

    with pytest.raises(ValueError, match="order must be"):
        label_many(make_engine(f"sqlite:///{tmp_path / 'x.db'}"), [], order="shortest")  # type: ignore[arg-type]
