"""Ray nodes started by mfdisco: their ``ray start`` command, the cluster token, health and shutdown.

The same command line starts a node natively (``mfdisco up``, ``mfdisco node``) and in
the docker compose services, so the two topologies cannot drift apart. Conventions
(DESIGN.md, Ray): token authentication always on (``RAY_AUTH_MODE=token``); the
dashboard, whose job API runs code, binds 127.0.0.1 unless told otherwise; every port a
node opens at a fixed number is explicit, so several nodes can share one machine.

The token is found in this order: ``$RAY_AUTH_TOKEN`` (the value), ``$RAY_AUTH_TOKEN_PATH``
(a file), Ray's default file ``~/.ray/auth_token``, which is generated (256 random bits,
mode 0600) when missing and allowed. Browsers give it once on the dashboard's login
page; HTTP clients send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mfdisco.core import MfdiscoError

__all__ = [
    "ClusterError",
    "ClusterToken",
    "NodeSpec",
    "DEFAULT_GCS_PORT",
    "DEFAULT_DASHBOARD_PORT",
    "DEFAULT_METRICS_PORT",
    "DEFAULT_AGENT_PORT",
    "cluster_token",
    "ray_start_command",
    "start_node_command",
    "dashboard_get",
    "alive_nodes",
    "wait_for_cluster",
    "session_processes",
    "stop_sessions",
]

logger = logging.getLogger(__name__)

DEFAULT_GCS_PORT = 6379
DEFAULT_DASHBOARD_PORT = 8265
DEFAULT_METRICS_PORT = 8080
DEFAULT_AGENT_PORT = 52365
_DEFAULT_TOKEN_FILE = Path("~/.ray/auth_token")


class ClusterError(MfdiscoError, RuntimeError):
    """A Ray node or cluster could not be started, reached or stopped; the message says which and why."""


@dataclass(frozen=True)
class ClusterToken:
    """The Ray cluster's authentication token and where it came from.

    Attributes:
        value: the token.
        path: the file holding it; None when it came from ``$RAY_AUTH_TOKEN``.
    """

    value: str
    path: Path | None = None

    def env(self) -> dict[str, str]:
        """Environment that makes a Ray process use token authentication with this token."""
        where = {"RAY_AUTH_TOKEN_PATH": str(self.path)} if self.path is not None else {"RAY_AUTH_TOKEN": self.value}
        return {"RAY_AUTH_MODE": "token", **where}

    def headers(self) -> dict[str, str]:
        """HTTP headers of a dashboard request."""
        return {"Authorization": f"Bearer {self.value}"}


def cluster_token(env: dict[str, str] | None = None, create: bool = True) -> ClusterToken:
    """The cluster token (see the module docstring for the search order).

    Args:
        env: environment to read (default ``os.environ``).
        create: generate Ray's default token file when no token exists.

    Raises:
        ClusterError: ``$RAY_AUTH_TOKEN_PATH`` names a missing or empty file, or no token
            exists and ``create`` is false.
    """
    env = dict(os.environ if env is None else env)
    if env.get("RAY_AUTH_TOKEN", "").strip():
        return ClusterToken(env["RAY_AUTH_TOKEN"].strip())
    if env.get("RAY_AUTH_TOKEN_PATH", "").strip():
        path = Path(env["RAY_AUTH_TOKEN_PATH"]).expanduser()
        return ClusterToken(_read_token(path, "RAY_AUTH_TOKEN_PATH"), path)
    path = _DEFAULT_TOKEN_FILE.expanduser()
    if not path.is_file():
        if not create:
            raise ClusterError(f"no Ray cluster token: set RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH, or create {path} ('ray get-auth-token --generate')")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.info("generated the Ray cluster token in %s", path)
    return ClusterToken(_read_token(path, "the token file"), path)


def _read_token(path: Path, what: str) -> str:
    try:
        value = path.read_text().strip()
    except OSError as error:
        raise ClusterError(f"{what} {path} cannot be read: {error.strerror or error}") from None
    if not value:
        raise ClusterError(f"{what} {path} is empty")
    return value


class NodeSpec(BaseModel):
    """One Ray node as mfdisco starts it.

    Attributes:
        role: ``head`` (GCS, dashboard, job server) or ``worker`` (joins ``address``).
        address: the head's GCS address ``host:port`` (workers only).
        gcs_port: the head's GCS port.
        num_cpus: CPUs this node offers to tasks (None: all of the machine's).
        dashboard_host: interface of the dashboard (head); 127.0.0.1 keeps the job API
            on this machine. Containers bind 0.0.0.0 and publish on 127.0.0.1 instead.
        dashboard_port: the dashboard's port (head).
        metrics_export_port: where this node's metrics agent serves Prometheus metrics.
        agent_listen_port: the node's dashboard-agent HTTP port (distinct per node on one machine).
        object_store_memory_mb: object store size (None: Ray's default, 30 % of memory).
        temp_dir: Ray's temporary root (sockets and logs; keep the path short).
        block: keep ``ray start`` in the foreground (containers).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["head", "worker"]
    address: str | None = None
    gcs_port: int = Field(DEFAULT_GCS_PORT, gt=0, lt=65536)
    num_cpus: int | None = Field(None, ge=0)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(DEFAULT_DASHBOARD_PORT, gt=0, lt=65536)
    metrics_export_port: int = Field(DEFAULT_METRICS_PORT, gt=0, lt=65536)
    agent_listen_port: int = Field(DEFAULT_AGENT_PORT, gt=0, lt=65536)
    object_store_memory_mb: int | None = Field(None, ge=78)
    temp_dir: str | None = None
    block: bool = False

    @model_validator(mode="after")
    def _address_for_workers(self) -> NodeSpec:
        if self.role == "worker" and not self.address:
            raise ValueError("a worker node needs the head's address (host:port)")
        if self.role == "head" and self.address:
            raise ValueError("a head node takes no address (it is the address)")
        return self


def _ray_executable() -> str:
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if found is None:
        raise ClusterError("the 'ray' command is not installed beside this Python; install mfdisco with ray[default]")
    return found


def ray_start_command(spec: NodeSpec, executable: str = "ray") -> list[str]:
    """The ``ray start`` arguments of a node (``executable`` first)."""
    command = [executable, "start", "--disable-usage-stats", f"--metrics-export-port={spec.metrics_export_port}",
               f"--dashboard-agent-listen-port={spec.agent_listen_port}"]
    if spec.role == "head":
        command += ["--head", f"--port={spec.gcs_port}", "--include-dashboard=true",
                    f"--dashboard-host={spec.dashboard_host}", f"--dashboard-port={spec.dashboard_port}"]
    else:
        command += [f"--address={spec.address}"]
    if spec.num_cpus is not None:
        command.append(f"--num-cpus={spec.num_cpus}")
    if spec.object_store_memory_mb is not None:
        command.append(f"--object-store-memory={spec.object_store_memory_mb * 2**20}")
    if spec.temp_dir:
        command.append(f"--temp-dir={spec.temp_dir}")
    if spec.block:
        command.append("--block")
    return command


def start_node_command(spec: NodeSpec) -> list[str]:
    """:func:`ray_start_command` with the installed ``ray`` executable."""
    return ray_start_command(spec, _ray_executable())


def dashboard_get(url: str, path: str, token: ClusterToken, timeout_s: float = 5.0) -> Any:
    """GET a dashboard endpoint with the token; the decoded JSON body.

    Raises:
        ClusterError: unreachable, refused (401/403: wrong or missing token) or not JSON.
    """
    request = urllib.request.Request(url.rstrip("/") + path, headers=token.headers())
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the user's dashboard URL
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        hint = " (the cluster token is wrong or missing)" if error.code in (401, 403) else ""
        raise ClusterError(f"dashboard {url}{path} answered HTTP {error.code}{hint}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ClusterError(f"dashboard {url} is not reachable: {getattr(error, 'reason', error)}") from None
    except json.JSONDecodeError:
        raise ClusterError(f"dashboard {url}{path} did not answer JSON") from None


def alive_nodes(url: str, token: ClusterToken) -> list[dict[str, Any]]:
    """The cluster's alive nodes, from the dashboard's state API."""
    body = dashboard_get(url, "/api/v0/nodes?limit=1000", token)
    return [node for node in body["data"]["result"]["result"] if node.get("state") == "ALIVE"]


def wait_for_cluster(url: str, token: ClusterToken, nodes: int, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Wait until the dashboard answers and at least ``nodes`` nodes are alive.

    Raises:
        ClusterError: not so within ``timeout_s``, with the last reason.
    """
    deadline = time.monotonic() + timeout_s
    reason = "not asked yet"
    while time.monotonic() < deadline:
        try:
            found = alive_nodes(url, token)
            if len(found) >= nodes:
                return found
            reason = f"{len(found)} of {nodes} nodes alive"
        except ClusterError as error:
            reason = str(error)
        time.sleep(1.0)
    raise ClusterError(f"the Ray cluster at {url} was not ready after {timeout_s:.0f} s: {reason}")


def session_processes(sessions: set[int]) -> list[int]:
    """PIDs of the live processes of the nodes started in ``sessions``, and of their descendants.

    ``ray start`` run in a new session leaves its daemons (GCS, raylet, dashboard,
    agents, task workers) in that session; a job's driver runs in a session of its own
    under the job supervisor, so descendants (and the sessions they lead) count too.
    Nothing else on the machine is touched, another Ray cluster included.
    """
    import psutil

    parents: dict[int, int] = {}
    session_of: dict[int, int] = {}
    for process in psutil.process_iter(["ppid", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
                continue
            parents[process.pid] = process.info["ppid"]
            session_of[process.pid] = os.getsid(process.pid)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    wanted = set(sessions)
    found = {pid for pid, sid in session_of.items() if sid in wanted}
    while True:
        grown = found | {pid for pid, ppid in parents.items() if ppid in found}
        wanted |= {pid for pid in grown if session_of.get(pid) == pid}  # sessions led by a member
        grown |= {pid for pid, sid in session_of.items() if sid in wanted}
        if grown == found:
            return sorted(found)
        found = grown


def stop_sessions(sessions: set[int], grace_s: float = 10.0) -> int:
    """SIGTERM every process of ``sessions``, then SIGKILL what is left after ``grace_s``.

    Returns:
        How many processes were signalled.

    Raises:
        ClusterError: processes survived SIGKILL (listed).
    """
    victims = session_processes(sessions)
    for pid in victims:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and session_processes(sessions):
        time.sleep(0.25)
    for pid in session_processes(sessions):
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and session_processes(sessions):
        time.sleep(0.25)
    left = session_processes(sessions)
    if left:
        raise ClusterError(f"processes {left} of the Ray nodes survived SIGKILL")
    return len(victims)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass
