"""Generation metrics with the field's definitions (CDVAE / DiffCSP)."""

from mfdisco.generator.metrics.coverage import COVERAGE_CUTOFFS, Coverage, coverage
from mfdisco.generator.metrics.csp import CSPScore, csp_match, structure_matcher
from mfdisco.generator.metrics.distribution import density_g_per_cm3, wasserstein_density, wasserstein_num_elements
from mfdisco.generator.metrics.novelty import NOVELTY_WARNING, TrapReport, metallicity_trap, novelty, same_structure_groups, uniqueness
from mfdisco.generator.metrics.validity import compositional_validity, structural_validity

__all__ = [
    "COVERAGE_CUTOFFS",
    "Coverage",
    "coverage",
    "CSPScore",
    "NOVELTY_WARNING",
    "TrapReport",
    "compositional_validity",
    "csp_match",
    "density_g_per_cm3",
    "metallicity_trap",
    "novelty",
    "same_structure_groups",
    "structural_validity",
    "structure_matcher",
    "uniqueness",
    "wasserstein_density",
    "wasserstein_num_elements",
]
