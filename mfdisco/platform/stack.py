"""The compose topology without Docker: a Ray head and worker nodes on this machine (``mfdisco up`` / ``down``).

``up`` starts a head node (GCS, dashboard on 127.0.0.1, job server) and ``workers``
worker nodes, each a separate ``ray start`` in its own process session, waits until all
are alive, and records them in a state file; the campaign is then submitted as a Ray
Job (:mod:`mfdisco.platform.jobs`). ``down`` signals every process of those sessions
(GCS, raylets, dashboard, agents, workers, job drivers) and nothing else, so another
Ray cluster on the machine is left alone.

Ray resolves a loopback node address to the machine's own IP, so the nodes talk over
that address; the GCS and node ports accept only clients with the cluster token, and
the dashboard (whose job API runs code) listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mfdisco.platform.ray_nodes import (
    DEFAULT_AGENT_PORT,
    DEFAULT_DASHBOARD_PORT,
    DEFAULT_GCS_PORT,
    DEFAULT_METRICS_PORT,
    ClusterError,
    ClusterToken,
    NodeSpec,
    session_processes,
    start_node_command,
    stop_sessions,
    wait_for_cluster,
)

__all__ = ["StackOptions", "StackState", "DEFAULT_STATE_FILE", "stack_up", "stack_down", "read_state"]

logger = logging.getLogger(__name__)

DEFAULT_STATE_FILE = Path("~/.mfdisco/stack.json")


class StackOptions(BaseModel):
    """The native stack's shape.

    Attributes:
        workers: worker nodes besides the head.
        head_cpus: CPUs the head offers to tasks (0: it only runs the campaign driver).
        worker_cpus: CPUs of each worker node.
        gcs_port: the head's GCS port.
        dashboard_port: the dashboard's port (on 127.0.0.1).
        metrics_port: the head's metrics port; worker i takes ``metrics_port + 1 + i``.
        agent_port: the head's dashboard-agent port; worker i takes ``agent_port + 1 + i``.
        object_store_memory_mb: each node's object store.
        start_timeout_s: how long to wait for every node to be alive.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(1, ge=0, le=64)
    head_cpus: int = Field(1, ge=0)
    worker_cpus: int = Field(1, ge=1)
    gcs_port: int = Field(DEFAULT_GCS_PORT, gt=0, lt=65536)
    dashboard_port: int = Field(DEFAULT_DASHBOARD_PORT, gt=0, lt=65536)
    metrics_port: int = Field(DEFAULT_METRICS_PORT, gt=0, lt=65536 - 65)
    agent_port: int = Field(DEFAULT_AGENT_PORT, gt=0, lt=65536 - 65)
    object_store_memory_mb: int = Field(512, ge=78)
    start_timeout_s: float = Field(120.0, gt=0)

    def nodes(self, temp_dir: str) -> list[NodeSpec]:
        """The head's spec, then each worker's."""
        common = {"object_store_memory_mb": self.object_store_memory_mb, "temp_dir": temp_dir}
        head = NodeSpec(role="head", gcs_port=self.gcs_port, num_cpus=self.head_cpus, dashboard_port=self.dashboard_port,
                        metrics_export_port=self.metrics_port, agent_listen_port=self.agent_port, **common)
        address = f"127.0.0.1:{self.gcs_port}"
        workers = [
            NodeSpec(role="worker", address=address, num_cpus=self.worker_cpus, metrics_export_port=self.metrics_port + 1 + i,
                     agent_listen_port=self.agent_port + 1 + i, **common)
            for i in range(self.workers)
        ]
        return [head, *workers]

    def ports(self) -> dict[str, int]:
        """Every fixed port the stack opens, by what it is for."""
        ports = {"gcs_port": self.gcs_port, "dashboard_port": self.dashboard_port, "metrics_port": self.metrics_port, "agent_port": self.agent_port}
        for i in range(self.workers):
            ports[f"worker {i + 1} metrics_port"] = self.metrics_port + 1 + i
            ports[f"worker {i + 1} agent_port"] = self.agent_port + 1 + i
        return ports


@dataclass
class StackState:
    """What ``up`` started, as written to the state file.

    Attributes:
        dashboard_url: the dashboard and job server.
        gcs_address: the head's GCS address.
        sessions: process-session id of each node (head first).
        nodes: each node's role, CPUs and metrics port.
        temp_dir: Ray's temporary root of these nodes (their logs are under ``session_latest/logs``;
            removed by ``down``).
        token_path: the file with the cluster token (None: it came from ``$RAY_AUTH_TOKEN``).
        started_at: UTC time of ``up``.
        jobs: the campaign jobs submitted by ``up``: ``{"id": submission id, "campaign": name}``.
    """

    dashboard_url: str
    gcs_address: str
    sessions: list[int]
    nodes: list[dict]
    temp_dir: str
    token_path: str | None
    started_at: str
    jobs: list[dict] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the state file atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=1))
        os.replace(partial, path)


def read_state(path: Path) -> StackState | None:
    """The recorded stack, or None when there is no state file.

    Raises:
        ClusterError: the file exists but is not a state file.
    """
    path = path.expanduser()
    if not path.is_file():
        return None
    try:
        return StackState(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as error:
        raise ClusterError(f"{path} is not an mfdisco stack state file ({error}); remove it after checking no Ray node of it runs") from None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - only probing whether the port is free
        except OSError:
            return True
    return False


def stack_up(options: StackOptions, token: ClusterToken, state_file: Path = DEFAULT_STATE_FILE) -> StackState:
    """Start the head and worker nodes and wait until all are alive.

    Raises:
        ClusterError: a stack of this state file still runs, a port is taken, or a node
            did not start (whatever had started is stopped again).
    """
    state_file = state_file.expanduser()
    previous = read_state(state_file)
    if previous is not None and session_processes(set(previous.sessions)):
        raise ClusterError(f"a stack started at {previous.started_at} still runs (dashboard {previous.dashboard_url}); stop it with 'mfdisco down'")
    taken = [f"{what} {port}" for what, port in options.ports().items() if _port_in_use(port)]
    if taken:
        raise ClusterError(f"ports in use: {', '.join(taken)}; choose others (mfdisco up --help) or stop what holds them")
    temp_dir = tempfile.mkdtemp(prefix="mfdisco-ray-", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    env = {**os.environ, **token.env()}
    env.pop("RAY_ADDRESS", None)
    specs = options.nodes(temp_dir)
    sessions: list[int] = []
    url = f"http://127.0.0.1:{options.dashboard_port}"
    try:
        for index, spec in enumerate(specs):
            sessions.append(_start_node(spec, env))
            if index == 0:
                wait_for_cluster(url, token, 1, options.start_timeout_s)
        wait_for_cluster(url, token, len(specs), options.start_timeout_s)
    except BaseException:
        stop_sessions(set(sessions))
        raise
    state = StackState(
        dashboard_url=url, gcs_address=f"127.0.0.1:{options.gcs_port}", sessions=sessions,
        nodes=[{"role": s.role, "num_cpus": s.num_cpus, "metrics_port": s.metrics_export_port} for s in specs],
        temp_dir=temp_dir, token_path=str(token.path) if token.path else None, started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    state.save(state_file)
    logger.info("Ray stack up: head and %d worker nodes, dashboard %s", options.workers, url)
    return state


def _start_node(spec: NodeSpec, env: dict[str, str]) -> int:
    """Run ``ray start`` in a new process session; the session id (its PID)."""
    command = start_node_command(spec)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise ClusterError(f"'ray start' of the {spec.role} node did not return within 180 s:\n{output[-2000:]}") from None
    if process.returncode != 0:
        stop_sessions({process.pid})
        raise ClusterError(f"'ray start' of the {spec.role} node failed (exit {process.returncode}):\n{output[-2000:]}")
    return process.pid


def stack_down(state_file: Path = DEFAULT_STATE_FILE, grace_s: float = 10.0) -> tuple[StackState | None, int]:
    """Stop every process of the recorded stack and remove the state file.

    Returns:
        The stack that was recorded (None: none) and how many processes were signalled.
    """
    state_file = state_file.expanduser()
    state = read_state(state_file)
    if state is None:
        return None, 0
    stopped = stop_sessions(set(state.sessions), grace_s)
    state_file.unlink(missing_ok=True)
    shutil.rmtree(state.temp_dir, ignore_errors=True)  # Ray's sockets and the nodes' logs
    logger.info("Ray stack down: %d processes stopped", stopped)
    return state, stopped
