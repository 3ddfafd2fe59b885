"""Ray node conventions: the token's sources, the ``ray start`` command, and stopping a node's processes exactly."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from mfdisco.platform.ray_nodes import ClusterError, NodeSpec, cluster_token, ray_start_command, session_processes, stop_sessions


def test_token_from_value_then_path_then_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cluster_token({"RAY_AUTH_TOKEN": " abc "}).value == "abc"
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    token = cluster_token({"RAY_AUTH_TOKEN_PATH": str(token_file)})
    assert (token.value, token.path) == ("from-file", token_file)
    assert token.env() == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file)}
    assert token.headers() == {"Authorization": "Bearer from-file"}
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(ClusterError, match="no Ray cluster token"):
        cluster_token({}, create=False)


def test_default_token_is_generated_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    env = {"RAY_AUTH_TOKEN": "", "RAY_AUTH_TOKEN_PATH": ""}
    first = cluster_token(env)
    assert first.path == tmp_path / ".ray" / "auth_token" and len(first.value) == 64
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert cluster_token(env).value == first.value


@pytest.mark.parametrize("content, message", [(None, "cannot be read"), ("  \n", "is empty")])
def test_bad_token_file_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ClusterError, match=message) as error:
        cluster_token({"RAY_AUTH_TOKEN_PATH": str(path)})
    assert "RAY_AUTH_TOKEN_PATH" in str(error.value) and str(path) in str(error.value)


def test_node_specs_are_validated_and_commands_explicit() -> None:
    with pytest.raises(ValidationError, match="needs the head's address"):
        NodeSpec(role="worker")
    with pytest.raises(ValidationError, match="takes no address"):
        NodeSpec(role="head", address="h:1")
    head = ray_start_command(NodeSpec(role="head", gcs_port=7000, num_cpus=0, dashboard_port=9000, block=True))
    assert head[:2] == ["ray", "start"] and "--head" in head and "--port=7000" in head and "--num-cpus=0" in head
    assert "--dashboard-host=127.0.0.1" in head and "--dashboard-port=9000" in head and head[-1] == "--block"
    worker = ray_start_command(NodeSpec(role="worker", address="10.0.0.1:7000", metrics_export_port=8081, agent_listen_port=52366))
    assert "--address=10.0.0.1:7000" in worker and "--head" not in worker and "--metrics-export-port=8081" in worker
    assert "--dashboard-agent-listen-port=52366" in worker and "--block" not in worker


def test_stop_sessions_ends_a_session_and_its_descendants_only() -> None:
    # a "node": a session leader that forks a child in a session of its own (like a Ray job driver)
    script = "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True); time.sleep(300)"
    node = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while len(session_processes({node.pid})) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        members = session_processes({node.pid})
        assert node.pid in members and len(members) == 2 and bystander.pid not in members
        assert stop_sessions({node.pid}, grace_s=5) == 2
        node.wait(timeout=10)
        assert session_processes({node.pid}) == []
        assert bystander.poll() is None  # untouched
    finally:
        bystander.kill()
        node.kill()
