"""Connecting to Ray: an existing cluster by address, or a local one with the dashboard on 127.0.0.1."""

from __future__ import annotations

import logging
import os

from pydantic import BaseModel, ConfigDict, Field

from mfdisco.core import MfdiscoError

__all__ = ["RayConfig", "connect_ray", "require_gpus"]

logger = logging.getLogger(__name__)


class RayConfig(BaseModel):
    """Where Ray runs.

    Attributes:
        address: an existing cluster (``ray://host:10001`` or ``host:6379``); default
            ``$RAY_ADDRESS``, else a local cluster is started.
        num_cpus: CPUs of a local cluster (default: all).
        object_store_memory_mb: object store of a local cluster.
        dashboard_host: the dashboard's interface; 127.0.0.1 keeps its job API (which runs
            code) private to this machine.
        dashboard_port: the dashboard's port.
        include_dashboard: start the dashboard with a local cluster.
    """

    model_config = ConfigDict(extra="forbid")

    address: str | None = None
    num_cpus: int | None = Field(None, gt=0)
    object_store_memory_mb: int = Field(512, ge=78)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(8265, gt=0, lt=65536)
    include_dashboard: bool = True


def connect_ray(config: RayConfig | None = None) -> None:
    """Initialise Ray once per process (no-op when already initialised)."""
    import ray

    if ray.is_initialized():
        return
    config = config or RayConfig()
    address = config.address or os.environ.get("RAY_ADDRESS")
    if address:
        logger.info("connecting to the Ray cluster at %s", address)
        ray.init(address=address, logging_level=logging.WARNING)
        return
    logger.info("starting a local Ray cluster (dashboard on %s:%d)", config.dashboard_host, config.dashboard_port)
    ray.init(
        num_cpus=config.num_cpus,
        object_store_memory=config.object_store_memory_mb * 2**20,
        include_dashboard=config.include_dashboard,
        dashboard_host=config.dashboard_host,
        dashboard_port=config.dashboard_port,
        logging_level=logging.WARNING,
    )


def require_gpus(gpus: int, resources: dict[str, float]) -> None:
    """Refuse a campaign whose validator trains on a GPU where the Ray cluster has none.

    Args:
        gpus: GPUs the validator's training task asks for (``PotentialConfig.gpus``).
        resources: the cluster's resources (``ray.cluster_resources()``).

    Raises:
        MfdiscoError: fewer GPUs than asked for; the training task would wait for one forever.
    """
    offered = float(resources.get("GPU", 0.0))
    if offered < gpus:
        raise MfdiscoError(
            f"validator.device asks for a CUDA device but the Ray cluster offers {offered:g} GPUs: "
            "set validator.device to cpu, or start a Ray node with a GPU"
        )
