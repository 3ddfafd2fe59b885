"""Crystal generation: datasets, the DiffCSP-style diffusion model, sampler, descriptor proxy, metrics.

The ``Generator`` protocol of DESIGN.md is the contract with the active loop; backends
register in :data:`mfdisco.generator.backend.GENERATOR_BACKENDS`.
"""

from mfdisco.generator import datasets

__all__ = ["datasets"]
