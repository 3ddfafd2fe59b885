"""The native stack, for real: PostgreSQL, a Ray head and a worker node on this machine, the campaign as a Ray Job.

``mfdisco up`` starts the nodes and submits a tiny campaign (gth-szv DFT, tiny models,
one cycle) as a Ray Job; the dashboard's HTTP API (with the cluster token; refused
without it) lists the job as succeeded, the head's metrics endpoint served the
campaign's gauges, the PostgreSQL views hold its rows, and ``mfdisco down`` leaves no
process of those nodes behind.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from mfdisco.db import run_read_only
from mfdisco.platform.ray_nodes import session_processes
from tests.platform.test_campaign import TINY


def _free_ports(n: int) -> list[int]:
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _get(url: str, token: str | None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    token = tmp_path / "ray_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MFDISCO_", "RAY_"))}
    return {**env, "RAY_AUTH_TOKEN_PATH": str(token)}


def _mfdisco(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfdisco", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env.get("PWD_FOR_TEST"))


def _campaign_started(url: str) -> bool:
    try:
        return bool(run_read_only(url, "SELECT name FROM campaigns WHERE name = 'stack-test'").rows)
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return False


def _stop(env: dict[str, str], state_file: Path, sessions: set[int], gcs: int) -> str:
    """``mfdisco down``; asserts that no process of the nodes is left and the GCS port is closed; its output."""
    down = _mfdisco(env, "down", "--state-file", str(state_file), "--grace", "5", timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped the stack" in down.stdout
    assert session_processes(sessions) == []
    assert not state_file.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", gcs)) != 0  # the GCS port is closed
    return down.stdout


@pytest.mark.slow  # 170 s: two Ray nodes started twice and a campaign; kept out of the default run's 15 minutes
@pytest.mark.timeout(900)
def test_native_stack_runs_the_campaign_as_a_ray_job(tmp_path: Path, pg_url: str, stack_env: dict[str, str]) -> None:
    gcs, dashboard, metrics, agent = _free_ports(4)
    config = tmp_path / "config.yaml"
    campaign = {**TINY["campaign"], "work_dir": str(tmp_path / "runs"), "max_cycles": 1}
    config.write_text(yaml.safe_dump({**TINY, "db": {"url": pg_url}, "campaign": campaign}))
    state_file = tmp_path / "stack.json"
    stack_env["PWD_FOR_TEST"] = str(tmp_path)
    token = Path(stack_env["RAY_AUTH_TOKEN_PATH"]).read_text()
    url = f"http://127.0.0.1:{dashboard}"
    ports = ["--gcs-port", str(gcs), "--dashboard-port", str(dashboard), "--metrics-port", str(metrics), "--agent-port", str(agent)]
    common = ["--config", str(config)]

    # 1. up: head + worker, the campaign submitted; stopped again while it runs
    up = _mfdisco(stack_env, *common, "up", "--workers", "1", *ports, "--name", "stack-test", "--state-file", str(state_file))
    assert up.returncode == 0, up.stdout + up.stderr
    assert "submitted as Ray Job mfdisco-stack-test-" in up.stdout
    state = json.loads(state_file.read_text())
    assert [n["role"] for n in state["nodes"]] == ["head", "worker"]
    assert [job["campaign"] for job in state["jobs"]] == ["stack-test"]
    sessions = set(state["sessions"])
    try:
        assert _get(f"{url}/api/jobs/", None)[0] == 401  # token authentication is on
        status, body = _get(f"{url}/api/v0/nodes?limit=10", token)
        assert status == 200 and sum(n["state"] == "ALIVE" for n in json.loads(body)["data"]["result"]["result"]) == 2
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not _campaign_started(pg_url):  # the job has created its campaign
            time.sleep(1)
        assert _campaign_started(pg_url), "the campaign job never created its campaign row"
    finally:
        stopped = _stop(stack_env, state_file, sessions, gcs)
    assert "was still running; continue it with: mfdisco up --no-submit && mfdisco submit --resume stack-test" in stopped

    # 2. up again without a job, then the campaign resumed as a Ray Job to the end
    up = _mfdisco(stack_env, *common, "up", "--workers", "1", *ports, "--no-submit", "--state-file", str(state_file))
    assert up.returncode == 0, up.stdout + up.stderr
    sessions = set(json.loads(state_file.read_text())["sessions"])
    try:
        submit = subprocess.Popen([sys.executable, "-m", "mfdisco", *common, "submit", "--address", url, "--resume", "stack-test", "--wait"],
                                  env=stack_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen_gauges: set[str] = set()
        while submit.poll() is None:
            _, exported = _get(f"http://127.0.0.1:{metrics}/metrics", None)
            seen_gauges |= {line.split("{")[0] for line in exported.splitlines() if "mfdisco_" in line.split("{")[0]}
            time.sleep(2)
        output = submit.stdout.read()
        assert submit.returncode == 0 and "SUCCEEDED" in output, output[-3000:]
        status, body = _get(f"{url}/api/jobs/", token)
        jobs = [j for j in json.loads(body) if (j.get("submission_id") or "").startswith("mfdisco-stack-test-")]
        assert status == 200 and [j["status"] for j in jobs] == ["SUCCEEDED"]
        assert " -m mfdisco run --resume stack-test" in jobs[0]["entrypoint"]
        assert any(name.endswith("mfdisco_cycle") for name in seen_gauges), f"campaign gauges not exported: {sorted(seen_gauges)}"
        summary = run_read_only(pg_url, "SELECT campaign, status, cycles, labels_done, labels_pending, labels_running FROM campaign_summary")
        assert summary.rows == [("stack-test", "finished", 1, summary.rows[0][3], 0, 0)] and summary.rows[0][3] >= 2
        assert run_read_only(pg_url, "SELECT COUNT(*) FROM discovered_candidates").rows[0][0] >= 0
        assert run_read_only(pg_url, "SELECT status, n_selected FROM cycles").rows == [("finished", 1)]
        duplicated = run_read_only(pg_url, "SELECT structure_id, fidelity, settings_hash FROM calculations GROUP BY 1, 2, 3 HAVING COUNT(*) > 1")
        assert duplicated.rows == []
        status_output = _mfdisco(stack_env, *common, "status", timeout=120)
        assert status_output.returncode == 0 and "stack-test" in status_output.stdout
    finally:
        _stop(stack_env, state_file, sessions, gcs)


def test_up_refuses_bad_options_and_taken_ports_before_starting_anything(tmp_path: Path, stack_env: dict[str, str]) -> None:
    state_file = tmp_path / "stack.json"
    bad = _mfdisco(stack_env, "up", "--workers", "-1", "--no-submit", "--state-file", str(state_file), timeout=60)
    assert bad.returncode == 2 and "--workers" in bad.stderr
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))  # noqa: S104 - hold a port on every interface
        holder.listen()
        taken = holder.getsockname()[1]
        refused = _mfdisco(stack_env, "up", "--no-submit", "--gcs-port", str(taken), "--state-file", str(state_file), timeout=60)
    assert refused.returncode == 1 and f"gcs_port {taken}" in refused.stderr
    assert not state_file.exists()
    nothing = _mfdisco(stack_env, "down", "--state-file", str(state_file), timeout=60)
    assert nothing.returncode == 0 and "nothing to stop" in nothing.stdout
