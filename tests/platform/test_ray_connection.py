"""The Ray cluster's resources against what a campaign asks of it."""

from __future__ import annotations

import pytest


def test_a_gpu_validator_is_refused_on_a_cluster_without_gpus() -> None:
    from mfdisco.core import MfdiscoError
    from mfdisco.platform.ray_connection import require_gpus

    require_gpus(0, {"CPU": 2.0})
    require_gpus(1, {"CPU": 2.0, "GPU": 1.0})
    with pytest.raises(MfdiscoError, match="validator.device asks for a CUDA device but the Ray cluster offers 0 GPUs"):
        require_gpus(1, {"CPU": 2.0})
