"""``mfdisco up|down|submit|node``: the Ray topology of docker compose, natively, and the campaign as a Ray Job."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from mfdisco.platform.ray_nodes import DEFAULT_AGENT_PORT, DEFAULT_DASHBOARD_PORT, DEFAULT_GCS_PORT, DEFAULT_METRICS_PORT
from mfdisco.platform.stack import DEFAULT_STATE_FILE

__all__ = ["up_command", "down_command", "submit_command", "node_app"]

node_app = typer.Typer(help="One Ray node with mfdisco's conventions (token auth on); what the compose services run.", no_args_is_help=True)

_DEFAULT_ADDRESS = f"http://127.0.0.1:{DEFAULT_DASHBOARD_PORT}"
StateFile = Annotated[Path, typer.Option("--state-file", help="Where up records the nodes it started (down reads it).")]


def _job_env(ctx: typer.Context) -> dict[str, str]:
    """The job's environment: the database URL and the config file this command was given."""
    cfg = ctx.obj
    env = {"MFDISCO_DB_URL": cfg.db.url}
    config_path = ctx.find_root().params.get("config") or os.environ.get("MFDISCO_CONFIG")
    if config_path:
        env["MFDISCO_CONFIG"] = str(Path(config_path).resolve())
    return env


def _submit(
    ctx: typer.Context, address: str, name: str | None, resume: str | None, cycles: int | None, wait: bool,
    on_submitted: Callable[[str, str], None] | None = None,
) -> str:
    """Check the options and the database, submit the campaign job (``on_submitted`` gets its id and the campaign), optionally follow it."""
    from mfdisco.platform.cli import _guard, _safe_url, _upgrade, console
    from mfdisco.platform.cli_campaign import check_campaign_options
    from mfdisco.platform.jobs import CampaignJob, follow_job, submit_campaign
    from mfdisco.platform.ray_nodes import cluster_token

    check_campaign_options(name, resume, cycles)
    cfg = ctx.obj
    revision = _guard(lambda: _upgrade(cfg))  # the database answers and has the schema before anything runs
    console.print(f"database {_safe_url(cfg.db.url)} at revision {revision}")
    token = _guard(lambda: cluster_token(create=False))
    campaign = resume or name or datetime.now(UTC).strftime("campaign-%Y%m%d-%H%M%S")  # named here, so it can be resumed by name
    job = CampaignJob(name=campaign, resume=resume is not None, cycles=cycles, workdir=os.getcwd(), env=_job_env(ctx))
    submission = _guard(lambda: submit_campaign(address, token, job))
    console.print(f"campaign submitted as Ray Job {submission} (dashboard {address}, Jobs page)")
    if on_submitted is not None:
        on_submitted(submission, campaign)
    if not wait:
        console.print(f"follow it with: mfdisco status; or RAY_API_SERVER_ADDRESS={address} ray job logs -f {submission}", markup=False)
        return submission
    status = _guard(lambda: follow_job(address, token, submission, on_output=lambda text: sys.stdout.write(text)))
    console.print(f"Ray Job {submission}: {status}")
    if status != "SUCCEEDED":
        raise typer.Exit(1)
    return submission


def submit_command(
    ctx: typer.Context,
    address: Annotated[str, typer.Option("--address", envvar="RAY_API_SERVER_ADDRESS", help="The cluster's dashboard / job server.")] = _DEFAULT_ADDRESS,
    name: Annotated[str | None, typer.Option("--name", help="Name of a new campaign (default: campaign-<UTC time>).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Resume the campaign of this name.")] = None,
    cycles: Annotated[int | None, typer.Option("--cycles", help="Cycles at most (default: campaign.max_cycles).")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the job's log until it ends; exit 1 unless it succeeded.")] = False,
) -> None:
    """Submit the campaign to a running Ray cluster as a Ray Job (it shows on the dashboard's Jobs page)."""
    _submit(ctx, address, name, resume, cycles, wait)


def up_command(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option("--workers", help="Worker nodes besides the head.")] = 1,
    head_cpus: Annotated[int, typer.Option("--head-cpus", help="CPUs the head offers to tasks (0: driver only).")] = 1,
    worker_cpus: Annotated[int, typer.Option("--worker-cpus", help="CPUs of each worker node.")] = 1,
    gcs_port: Annotated[int, typer.Option("--gcs-port", help="The head's GCS port.")] = DEFAULT_GCS_PORT,
    dashboard_port: Annotated[int, typer.Option("--dashboard-port", help="The dashboard's port (on 127.0.0.1).")] = DEFAULT_DASHBOARD_PORT,
    metrics_port: Annotated[int, typer.Option("--metrics-port", help="The head's Prometheus metrics port; worker i takes the next ones.")] = DEFAULT_METRICS_PORT,
    agent_port: Annotated[int, typer.Option("--agent-port", help="The head's dashboard-agent port; worker i takes the next ones.")] = DEFAULT_AGENT_PORT,
    submit: Annotated[bool, typer.Option("--submit/--no-submit", help="Submit the campaign as a Ray Job once the nodes are up.")] = True,
    name: Annotated[str | None, typer.Option("--name", help="Name of the new campaign.")] = None,
    cycles: Annotated[int | None, typer.Option("--cycles", help="Cycles at most.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the campaign job until it ends.")] = False,
    state_file: StateFile = DEFAULT_STATE_FILE,
) -> None:
    """Start a Ray head and worker nodes on this machine and submit the campaign as a Ray Job (docker compose without Docker)."""
    from pydantic import ValidationError

    from mfdisco.platform.cli import _guard, _safe_url, _upgrade, console, errors
    from mfdisco.platform.ray_nodes import cluster_token
    from mfdisco.platform.stack import StackOptions, stack_up

    try:
        options = StackOptions(workers=workers, head_cpus=head_cpus, worker_cpus=worker_cpus, gcs_port=gcs_port,
                               dashboard_port=dashboard_port, metrics_port=metrics_port, agent_port=agent_port)
    except ValidationError as error:
        problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}" for e in error.errors())
        errors.print(f"[red]error:[/red] {problems}", highlight=False)
        raise typer.Exit(2) from None
    cfg = ctx.obj
    if submit:
        revision = _guard(lambda: _upgrade(cfg))
        console.print(f"database {_safe_url(cfg.db.url)} at revision {revision}")
    token = _guard(lambda: cluster_token(create=True))
    state = _guard(lambda: stack_up(options, token, state_file))
    console.print(f"Ray head and {workers} worker node(s) up; dashboard {state.dashboard_url} (token in {state.token_path or '$RAY_AUTH_TOKEN'}); "
                  f"logs under {state.temp_dir}/session_latest/logs", markup=False)
    console.print("stop everything with: mfdisco down", markup=False)
    if submit:
        def remember(submission: str, campaign: str) -> None:
            state.jobs.append({"id": submission, "campaign": campaign})
            state.save(state_file.expanduser())

        _submit(ctx, state.dashboard_url, name, None, cycles, wait, on_submitted=remember)


def down_command(
    state_file: StateFile = DEFAULT_STATE_FILE,
    grace: Annotated[float, typer.Option("--grace", help="Seconds between SIGTERM and SIGKILL.")] = 10.0,
) -> None:
    """Stop every process of the nodes that 'mfdisco up' started (a running campaign job can be resumed later)."""
    from mfdisco.platform.cli import _guard, console
    from mfdisco.platform.jobs import TERMINAL_STATUSES, job_status
    from mfdisco.platform.ray_nodes import ClusterError, cluster_token
    from mfdisco.platform.stack import read_state, stack_down

    recorded = _guard(lambda: read_state(state_file))
    unfinished = []
    if recorded is not None and recorded.jobs:
        try:
            token = cluster_token(create=False)
            unfinished = [job for job in recorded.jobs if job_status(recorded.dashboard_url, token, job["id"]) not in TERMINAL_STATUSES]
        except ClusterError:
            pass  # the head no longer answers: nothing to report
    state, stopped = _guard(lambda: stack_down(state_file, grace))
    if state is None:
        console.print(f"no stack recorded in {state_file}: nothing to stop")
        return
    console.print(f"stopped the stack started at {state.started_at}: {stopped} processes of {len(state.sessions)} Ray nodes")
    for job in unfinished:
        console.print(f"campaign job {job['id']} was still running; continue it with: "
                      f"mfdisco up --no-submit && mfdisco submit --resume {job['campaign']}", markup=False)


# ---------------------------------------------------------------------------- node
def _exec_node(spec_values: dict) -> None:
    from pydantic import ValidationError

    from mfdisco.platform.cli import _guard, errors
    from mfdisco.platform.ray_nodes import NodeSpec, cluster_token, start_node_command

    try:
        spec = NodeSpec(**spec_values)
    except ValidationError as error:
        errors.print(f"[red]error:[/red] {'; '.join(e['msg'] for e in error.errors())}", highlight=False)
        raise typer.Exit(2) from None
    token = _guard(lambda: cluster_token(create=False))  # every node of a cluster must share one token
    command = _guard(lambda: start_node_command(spec))
    sys.stdout.flush()
    os.execve(command[0], command, {**os.environ, **token.env()})


@node_app.command("head")
def node_head(
    gcs_port: Annotated[int, typer.Option("--gcs-port")] = DEFAULT_GCS_PORT,
    num_cpus: Annotated[int | None, typer.Option("--num-cpus", help="CPUs offered to tasks (default: all).")] = None,
    dashboard_host: Annotated[str, typer.Option("--dashboard-host", help="0.0.0.0 only inside a container published on 127.0.0.1.")] = "127.0.0.1",
    dashboard_port: Annotated[int, typer.Option("--dashboard-port")] = DEFAULT_DASHBOARD_PORT,
    metrics_port: Annotated[int, typer.Option("--metrics-port")] = DEFAULT_METRICS_PORT,
    agent_port: Annotated[int, typer.Option("--agent-port")] = DEFAULT_AGENT_PORT,
    object_store_mb: Annotated[int | None, typer.Option("--object-store-mb")] = None,
    block: Annotated[bool, typer.Option("--block", help="Stay in the foreground (containers).")] = False,
) -> None:
    """Start a head node (GCS, dashboard, job server)."""
    _exec_node({"role": "head", "gcs_port": gcs_port, "num_cpus": num_cpus, "dashboard_host": dashboard_host, "dashboard_port": dashboard_port,
                "metrics_export_port": metrics_port, "agent_listen_port": agent_port, "object_store_memory_mb": object_store_mb, "block": block})


@node_app.command("worker")
def node_worker(
    address: Annotated[str, typer.Option("--address", help="The head's GCS address host:port.")],
    num_cpus: Annotated[int | None, typer.Option("--num-cpus", help="CPUs offered to tasks (default: all).")] = None,
    metrics_port: Annotated[int, typer.Option("--metrics-port")] = DEFAULT_METRICS_PORT,
    agent_port: Annotated[int, typer.Option("--agent-port")] = DEFAULT_AGENT_PORT,
    object_store_mb: Annotated[int | None, typer.Option("--object-store-mb")] = None,
    block: Annotated[bool, typer.Option("--block", help="Stay in the foreground (containers).")] = False,
) -> None:
    """Start a worker node that joins the head at ADDRESS."""
    _exec_node({"role": "worker", "address": address, "num_cpus": num_cpus, "metrics_export_port": metrics_port,
                "agent_listen_port": agent_port, "object_store_memory_mb": object_store_mb, "block": block})


@node_app.command("health")
def node_health(
    dashboard: Annotated[str, typer.Option("--dashboard", help="The dashboard URL.")] = _DEFAULT_ADDRESS,
    nodes: Annotated[int, typer.Option("--nodes", help="Healthy when at least this many nodes are alive.")] = 1,
) -> None:
    """Exit 0 when the dashboard answers with the cluster token and enough nodes are alive (a healthcheck)."""
    from mfdisco.platform.cli import _guard, console, errors
    from mfdisco.platform.ray_nodes import ClusterError, alive_nodes, cluster_token

    token = _guard(lambda: cluster_token(create=False))
    try:
        found = alive_nodes(dashboard, token)
    except ClusterError as error:
        errors.print(f"unhealthy: {error}", highlight=False)
        raise typer.Exit(1) from None
    if len(found) < nodes:
        errors.print(f"unhealthy: {len(found)} of {nodes} nodes alive", highlight=False)
        raise typer.Exit(1)
    console.print(f"healthy: {len(found)} nodes alive")
