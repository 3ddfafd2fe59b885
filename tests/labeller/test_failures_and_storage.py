"""Failure paths end as recorded labels, the caller unaffected; stored labels are never recomputed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import Engine

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import NewStructure, add_structures, find_calculation
from mfdisco.labeller import LabelSettings, label, label_isolated, label_structure, settings_hash
from mfdisco.labeller import isolation


def test_cost_over_the_limits_is_refused_before_running(lih: Crystal, fast: dict) -> None:
    start = time.perf_counter()
    result = label(lih, "ccsd_t", LabelSettings(**fast, max_orbitals=10))
    assert result.status == "refused" and "max_orbitals" in result.error
    assert result.energy_ev is None and time.perf_counter() - start < 5
    assert result.details["cost"]["n_orbitals"] > 10


def test_basis_without_virtual_orbitals_is_refused_for_ccsd_t() -> None:
    from mfdisco.labeller.references import reference_crystal

    result = label(reference_crystal("Mg"), "ccsd_t", LabelSettings(basis="gth-szv", ke_cutoff_ha=60.0))
    assert result.status == "refused" and "no virtual orbital" in result.error


def test_unsupported_element_is_refused_naming_it() -> None:
    zno = Crystal.from_species(2.28 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Zn", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    result = label(zno, "ccsd_t")
    assert result.status == "refused"
    assert "Zn" in result.error and "gth-hf-rev keeps 20" in result.error


def test_forced_non_convergence_is_recorded_as_failed(lih: Crystal, fast: dict) -> None:
    result = label(lih, "pbe", LabelSettings(**fast, max_scf_cycles=1, conv_tol_ha=1e-14))
    assert result.status == "failed" and result.converged is False
    assert result.error.startswith("SCF did not converge")
    for strategy in ("diis", "damped", "level-shift", "smeared", "second-order"):
        assert strategy in result.error


def test_open_shell_k_mesh_coupled_cluster_is_refused(fast: dict) -> None:
    atom = Crystal.from_species(np.eye(3) * 5.0, ["Li"], [[0.0, 0.0, 0.0]])  # a doublet: UHF reference
    result = label(atom, "ccsd_t", LabelSettings(**fast, kmesh=(2, 1, 1)))
    assert result.status == "refused" and "open-shell CCSD(T) on a k-mesh [2, 1, 1]" in result.error


def test_timeout_kills_the_child_and_the_caller_carries_on(lih: Crystal, fast: dict) -> None:
    start = time.perf_counter()
    result = label_isolated(lih, "ccsd_t", LabelSettings(**fast, timeout_s=0.3))
    assert result.status == "failed" and "timed out after 0.3 s" in result.error
    assert time.perf_counter() - start < 10
    assert label_isolated(lih, "pbe", LabelSettings(**fast)).status == "done"  # still usable afterwards


def test_an_isolated_label_reports_its_own_peak_memory_not_its_parents(lih: Crystal, fast: dict) -> None:
    """``ru_maxrss`` survives exec, so a spawned child used to report its parent's peak."""
    ballast = np.ones(1536 * 2**20 // 8)  # 1.5 GB touched by this (the parent) process
    del ballast
    result = label_isolated(lih, "pbe", LabelSettings(**fast, descriptors=False))
    assert result.status == "done", result.error
    assert 50 < result.details["peak_rss_mb"] < 1200


def test_memory_cap_ends_as_a_failed_label(lih: Crystal, fast: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "MEMORY_HEADROOM_MB", 0)
    result = label_isolated(lih, "ccsd_t", LabelSettings(**fast, max_memory_mb=300))
    assert result.status == "failed", result.error
    assert "memory cap 300 MB" in result.error or "out of memory" in result.error


@pytest.fixture
def stored_lih(engine: Engine, lih: Crystal) -> int:
    (structure_id,) = add_structures(engine, [NewStructure(lih, "test", "LiH")]).ids
    return structure_id


def test_a_stored_label_is_returned_without_any_work(engine: Engine, stored_lih: int, fast_settings: LabelSettings) -> None:
    calls: list[str] = []

    def counting(crystal: Crystal, fidelity: Fidelity, settings: LabelSettings) -> Label:
        calls.append(fidelity.value)
        return label(crystal, fidelity, settings)

    first = label_structure(engine, stored_lih, "pbe", fast_settings, runner=counting)
    second = label_structure(engine, stored_lih, "pbe", fast_settings, runner=counting)
    assert calls == ["pbe"]
    assert second.energy_ev == first.energy_ev and second.status == "done"
    assert second.details["basis"] == first.details["basis"]
    row = find_calculation(engine, stored_lih, "pbe", settings_hash("pbe", fast_settings))
    assert row.attempts == 1 and row.energy_per_atom_ev == pytest.approx(first.energy_per_atom_ev)


def test_a_failed_label_is_retried_and_replaced(engine: Engine, stored_lih: int, fast: dict) -> None:
    settings = LabelSettings(**fast)

    def failing(crystal: Crystal, fidelity: Fidelity, settings: LabelSettings) -> Label:
        return Label(fidelity, settings.model_dump(mode="json"), settings_hash(fidelity, settings), "failed", error="node lost")

    assert label_structure(engine, stored_lih, "pbe", settings, runner=failing).status == "failed"
    done = label_structure(engine, stored_lih, "pbe", settings, runner=label)
    assert done.status == "done"
    row = find_calculation(engine, stored_lih, "pbe", settings_hash("pbe", settings))
    assert row.status == "done" and row.attempts == 2 and row.error is None


def test_unknown_structure_id(engine: Engine) -> None:
    with pytest.raises(LookupError, match="no structure with id 999"):
        label_structure(engine, 999, "pbe", runner=label)


def test_coupled_cluster_is_retried_before_failing(lih: Crystal, fast: dict) -> None:
    retried = label(lih, "ccsd_t", LabelSettings(**fast, max_cc_cycles=2))
    assert retried.status == "done", retried.error
    assert retried.details["cc_attempts"][0].endswith("not converged")
    assert retried.details["cc_attempts"][1].endswith(": converged")
    reference = label(lih, "ccsd_t", LabelSettings(**fast))
    assert retried.energy_ev == pytest.approx(reference.energy_ev, abs=1e-5)  # the same solution
    never = label(lih, "ccsd_t", LabelSettings(**fast, max_cc_cycles=1))
    assert never.status == "failed" and never.converged is False and never.energy_ev is None
    assert never.error == (
        "CCSD did not converge: default (1 cycles): not converged; level-shift 0.2 Ha (4 cycles): not converged"
    )


_SLOW_LABEL_SCRIPT = """
import numpy as np
from mfdisco.core import Crystal
from mfdisco.labeller import LabelSettings, label_isolated
mgo = Crystal.from_species(2.1 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
label_isolated(mgo, "pbe", LabelSettings(threads=1, timeout_s=600))  # about a minute of PySCF
"""


def test_the_calculation_dies_with_a_killed_caller() -> None:
    """A caller killed by SIGKILL (a Ray worker, a stopped script) leaves no orphan calculation."""
    import subprocess
    import sys

    psutil = pytest.importorskip("psutil")
    caller = subprocess.Popen([sys.executable, "-c", _SLOW_LABEL_SCRIPT])
    children: list = []
    try:
        deadline = time.monotonic() + 120
        while not children and time.monotonic() < deadline and caller.poll() is None:
            time.sleep(0.5)
            children = [c for c in psutil.Process(caller.pid).children() if "spawn_main" in " ".join(c.cmdline())]
        assert children, "the caller never started its calculation process"
        time.sleep(3.0)  # the child is importing PySCF or running the SCF
        assert children[0].is_running()
        caller.kill()
        caller.wait()
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"calculation process {alive[0].pid} outlived its killed caller"
    finally:
        for child in children:
            if child.is_running():
                child.kill()
        if caller.poll() is None:
            caller.kill()
