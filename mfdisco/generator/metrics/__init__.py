"""Generation metrics with the field's definitions (CDVAE / DiffCSP)."""

from mfdisco.generator.metrics.validity import compositional_validity, structural_validity

__all__ = ["compositional_validity", "structural_validity"]
