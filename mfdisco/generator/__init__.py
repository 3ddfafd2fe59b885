"""Crystal generation: datasets now; the diffusion model, sampler and metrics come with the generator issue."""

from mfdisco.generator import datasets

__all__ = ["datasets"]
