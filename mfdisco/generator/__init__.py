"""Crystal generation: datasets, the DiffCSP-style diffusion model, sampler, descriptor proxy, metrics.

The ``Generator`` protocol of DESIGN.md is the contract with the active loop; backends
register in :data:`mfdisco.generator.backend.GENERATOR_BACKENDS`. Names that import torch
load on first use.
"""

from __future__ import annotations

from mfdisco.core.plugins import lazy_exports

from mfdisco.generator import datasets

__all__ = [
    "datasets",
    "GeneratorConfig",
    "Generator",
    "DiffusionGenerator",
    "generator_backend",
    "Denoiser",
    "JointDiffusion",
    "SamplerSettings",
    "sample_crystals",
    "DescriptorProxy",
    "fit_proxy",
]

_WHERE = {
    "GeneratorConfig": "config",
    "Generator": "backend",
    "DiffusionGenerator": "backend",
    "generator_backend": "backend",
    "Denoiser": "denoiser",
    "JointDiffusion": "diffusion.joint",
    "SamplerSettings": "sampler",
    "sample_crystals": "sampler",
    "DescriptorProxy": "proxy",
    "fit_proxy": "proxy",
}


__getattr__ = lazy_exports('mfdisco.generator', _WHERE)
