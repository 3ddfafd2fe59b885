"""The campaign as a Ray Job: submitted to a cluster's dashboard, so it shows on the Jobs page.

The job's entrypoint is ``python -m mfdisco run ...`` run by the head node's job server
in the working directory given, with the submitter's ``MFDISCO_*`` environment (and the
database URL) passed as the job's environment. Ray sets ``RAY_ADDRESS`` inside the job,
so the campaign joins that cluster instead of starting its own.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mfdisco.platform.ray_nodes import ClusterError, ClusterToken

__all__ = ["CampaignJob", "campaign_entrypoint", "submit_campaign", "job_status", "follow_job", "TERMINAL_STATUSES"]

logger = logging.getLogger(__name__)

#: Ray job statuses after which nothing changes.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})


@dataclass(frozen=True)
class CampaignJob:
    """What to run as the campaign job.

    Attributes:
        name: a new campaign's name (None: ``campaign-<UTC time>``), or the one to resume.
        resume: continue the campaign ``name`` instead of starting it.
        cycles: cycles at most (None: the config's ``campaign.max_cycles``).
        workdir: the job's working directory (relative paths of the config resolve there).
        env: environment of the job (``MFDISCO_*``, database URL).
    """

    name: str | None = None
    resume: bool = False
    cycles: int | None = None
    workdir: str = "."
    env: Mapping[str, str] | None = None


def campaign_entrypoint(job: CampaignJob, python: str = sys.executable) -> str:
    """The shell command the job server runs."""
    arguments = [python, "-m", "mfdisco", "run"]
    if job.resume:
        if not job.name:
            raise ValueError("resuming a campaign needs its name")
        arguments += ["--resume", job.name]
    elif job.name:
        arguments += ["--name", job.name]
    if job.cycles is not None:
        arguments += ["--cycles", str(job.cycles)]
    return f"cd {shlex.quote(os.path.abspath(job.workdir))} && " + " ".join(shlex.quote(a) for a in arguments)


def _client(address: str, token: ClusterToken):  # noqa: ANN202 - ray JobSubmissionClient
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(address, headers=token.headers())
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ClusterError(f"the Ray job server at {address} is not reachable: {error}") from None


def submit_campaign(address: str, token: ClusterToken, job: CampaignJob) -> str:
    """Submit the campaign job; its submission id (``mfdisco-<campaign>-<UTC time>``).

    Raises:
        ClusterError: the job server refused or could not be reached.
    """
    env = {key: value for key, value in os.environ.items() if key.startswith("MFDISCO_")}
    env.update(job.env or {})
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    submission_id = f"mfdisco-{job.name or 'campaign'}-{stamp}"
    client = _client(address, token)
    try:
        return client.submit_job(
            entrypoint=campaign_entrypoint(job),
            submission_id=submission_id,
            runtime_env={"env_vars": env},
            metadata={"campaign": job.name or "", "kind": "mfdisco-campaign"},
        )
    except RuntimeError as error:
        raise ClusterError(f"the Ray job server at {address} refused the campaign job: {error}") from None


def job_status(address: str, token: ClusterToken, submission_id: str) -> str:
    """``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``FAILED`` or ``STOPPED``."""
    client = _client(address, token)
    try:
        return str(client.get_job_status(submission_id).value)
    except RuntimeError as error:
        raise ClusterError(f"no status for job {submission_id} at {address}: {error}") from None


def follow_job(
    address: str, token: ClusterToken, submission_id: str, on_output: Callable[[str], None] | None = None,
    poll_s: float = 2.0, timeout_s: float | None = None,
) -> str:
    """Wait for the job to end, passing each new piece of its log to ``on_output``; its final status.

    Raises:
        ClusterError: the job server stopped answering, or ``timeout_s`` passed.
    """
    client = _client(address, token)
    shown = 0
    started = time.monotonic()
    while True:
        try:
            status = str(client.get_job_status(submission_id).value)
            logs = client.get_job_logs(submission_id)
        except RuntimeError as error:
            raise ClusterError(f"lost the job {submission_id} at {address}: {error}") from None
        if on_output is not None and len(logs) > shown:
            on_output(logs[shown:])
        shown = len(logs)
        if status in TERMINAL_STATUSES:
            return status
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            raise ClusterError(f"job {submission_id} still {status} after {timeout_s:.0f} s")
        time.sleep(poll_s)
