"""docker-compose.yml and the Dockerfile: structurally valid, and in step with the CLI (no drift).

Every mfdisco command a service runs (command and healthcheck) is parsed by the real
command line, so a renamed option or subcommand fails here; the ports, addresses and
dependencies between services must agree with what those commands say. There is no
Docker engine on the development machines; the structural check runs Debian's
``docker-compose config`` (the compose schema), which needs none.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from mfdisco.platform.cli import app
from mfdisco.platform.ray_nodes import DEFAULT_DASHBOARD_PORT, DEFAULT_GCS_PORT, DEFAULT_METRICS_PORT
from tests.tools import missing_tool

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
RAY_SERVICES = ("ray-head", "ray-worker", "campaign")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _parse(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    """(subcommand path, parsed options) of ``mfdisco ARGV``, as the CLI parses them, without running anything."""
    command = typer.main.get_command(app)
    context = command.make_context("mfdisco", list(argv))
    path: list[str] = []
    while hasattr(command, "resolve_command"):
        name, command, rest = command.resolve_command(context, [*context._protected_args, *context.args])
        context = command.make_context(name, rest, parent=context)
        path.append(name)
    return path, context.params


def _mfdisco_calls(command: list[str] | str) -> list[list[str]]:
    """The ``mfdisco ...`` invocations in a service command (a list, or ``sh -c "a && b"``)."""
    words = command if isinstance(command, list) else shlex.split(command)
    if not words:
        return []
    if words[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in words[2].split("&&") if shlex.split(part)[0] == "mfdisco"]
    return [words] if words[0] == "mfdisco" else []


def test_compose_file_is_valid_for_docker_compose() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        missing_tool("docker-compose", "apt-get install docker-compose")
    result = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    broken = COMPOSE.read_text().replace("    restart: unless-stopped", "    restart: unless-stopped\n    no_such_key: 1", 1)
    scratch = REPO / "test-artifacts"
    scratch.mkdir(exist_ok=True)
    (scratch / "docker-compose.yml").write_text(broken)
    result = subprocess.run([tool, "-f", str(scratch / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode != 0 and "no_such_key" in result.stderr  # the check can fail


def test_every_mfdisco_command_is_a_real_cli_call(services: dict[str, Any]) -> None:
    calls = {}
    for name, service in services.items():
        for argv in _mfdisco_calls(service.get("command", [])):
            calls[name, "command", " ".join(argv)] = _parse(argv[1:])
        health = service.get("healthcheck", {}).get("test", [])
        if health[:1] == ["CMD"]:
            for argv in _mfdisco_calls(health[1:]):
                calls[name, "healthcheck", " ".join(argv)] = _parse(argv[1:])
    kinds = {(name, " ".join(path)) for (name, _, _), (path, _) in calls.items()}
    assert {("ray-head", "node head"), ("ray-head", "node health"), ("ray-worker", "node worker"),
            ("campaign", "db upgrade"), ("campaign", "submit")} <= kinds


def test_ports_addresses_and_dependencies_agree(services: dict[str, Any]) -> None:
    (_, head), = [_parse(argv[1:]) for argv in _mfdisco_calls(services["ray-head"]["command"])]
    (_, health), = [_parse(argv[1:]) for argv in _mfdisco_calls(services["ray-head"]["healthcheck"]["test"][1:])]
    (_, worker), = [_parse(argv[1:]) for argv in _mfdisco_calls(services["ray-worker"]["command"])]
    submit = next(params for path, params in (_parse(a[1:]) for a in _mfdisco_calls(services["campaign"]["command"])) if path == ["submit"])
    assert head["block"] and worker["block"], "containers keep ray start in the foreground"
    assert (head["gcs_port"], head["dashboard_port"], head["metrics_port"]) == (DEFAULT_GCS_PORT, DEFAULT_DASHBOARD_PORT, DEFAULT_METRICS_PORT)
    assert head["dashboard_host"] == "0.0.0.0"  # inside the container; published on the host's 127.0.0.1 only
    assert health["dashboard"] == f"http://127.0.0.1:{head['dashboard_port']}"
    assert worker["address"] == f"ray-head:{head['gcs_port']}"
    assert submit["address"] == f"http://ray-head:{head['dashboard_port']}" and submit["wait"]
    published = services["ray-head"]["ports"]
    assert published == [f"127.0.0.1:${{RAY_DASHBOARD_PORT:-{head['dashboard_port']}}}:{head['dashboard_port']}"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    assert services["ray-worker"]["depends_on"]["ray-head"]["condition"] == "service_healthy"
    needs = services["campaign"]["depends_on"]
    assert needs["postgres"]["condition"] == "service_healthy" and needs["ray-head"]["condition"] == "service_healthy"
    for name in ("postgres", "ray-head", "ray-worker", "campaign"):
        assert services[name]["depends_on"]["secrets"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in services["postgres"] and "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_ray_services_keep_token_auth_and_share_the_database_and_runs(services: dict[str, Any]) -> None:
    postgres = services["postgres"]["environment"]
    for name in RAY_SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["RAY_AUTH_MODE"] == "token" and env["RAY_AUTH_TOKEN_PATH"].startswith("/run/mfdisco-secrets/")
        assert env["MFDISCO_DB_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["MFDISCO_DB_URL"]
        user = env["MFDISCO_DB_URL"].split("//")[1].split("@")[0]
        assert env["MFDISCO_DB_URL"].endswith("/" + postgres["POSTGRES_DB"]) and user == postgres["POSTGRES_USER"]  # no password in the URL
        assert env["PGPASSFILE"].startswith("/run/mfdisco-secrets/")
        assert "runs:/home/mfdisco/runs" in service["volumes"]  # checkpoints travel between nodes as paths
        assert env["MFDISCO_CAMPAIGN_WORK_DIR"] == "/home/mfdisco/runs"
    for name in ("ray-head", "ray-worker"):
        assert services[name]["shm_size"] == "2gb"  # Docker's default /dev/shm (64 MiB) starves Ray's object store
    assert postgres["POSTGRES_PASSWORD_FILE"].startswith("/run/mfdisco-secrets/")


def test_no_secret_is_committed_and_the_image_runs_unprivileged() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=REPO, check=True).stdout.split()
    assert ".env" not in tracked and ".env.example" in tracked
    example = (REPO / ".env.example").read_text()
    values = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    assert not any(key in values for key in ("POSTGRES_PASSWORD", "RAY_AUTH_TOKEN"))
    dockerfile = (REPO / "docker" / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users and users[-1] != "root"
    order = [line for line in dockerfile if line.startswith(("COPY", "RUN pip install"))]
    assert order.index("COPY pyproject.toml constraints.txt README.md ./") < order.index("COPY mfdisco mfdisco")  # dependencies cached


def test_secrets_are_made_once_kept_and_private(tmp_path: Path) -> None:
    script = REPO / "docker" / "init-secrets.sh"
    folder = tmp_path / "secrets"
    env = {"PATH": os.environ["PATH"], "MFDISCO_UID": str(os.getuid()), "POSTGRES_USER": "alice"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # the image's python is on PATH
    subprocess.run(["sh", str(script), str(folder)], env=env, check=True, capture_output=True, timeout=60)
    password = (folder / "postgres_password").read_text()
    token = (folder / "ray_token").read_text()
    assert len(password) == 64 and len(token) == 64 and password != token
    assert (folder / "pgpass").read_text() == f"postgres:5432:*:alice:{password}\n"
    assert stat.S_IMODE((folder / "pgpass").stat().st_mode) == 0o600 and stat.S_IMODE((folder / "ray_token").stat().st_mode) == 0o600
    subprocess.run(["sh", str(script), str(folder)], env=env, check=True, capture_output=True, timeout=60)
    assert (folder / "postgres_password").read_text() == password and (folder / "ray_token").read_text() == token  # kept
    subprocess.run(["sh", str(script), str(folder)], env={**env, "RAY_AUTH_TOKEN": "from-env"}, check=True, capture_output=True, timeout=60)
    assert (folder / "ray_token").read_text() == "from-env"  # .env wins
