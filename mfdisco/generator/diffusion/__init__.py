"""Diffusion processes of the generator: noise schedules and the wrapped normal on the torus."""

from mfdisco.generator.diffusion.schedules import CosineSchedule, SigmaSchedule
from mfdisco.generator.diffusion.torus import wrapped_normal_log_density, wrapped_normal_score, wrapped_normal_score_norm

__all__ = ["CosineSchedule", "SigmaSchedule", "wrapped_normal_log_density", "wrapped_normal_score", "wrapped_normal_score_norm"]
