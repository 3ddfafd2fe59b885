"""Distribution metrics of de novo generation: Wasserstein distances (CDVAE's definitions).

The 1-D Wasserstein (earth mover's) distance between generated and reference samples of
the density ρ (g/cm³) and of the number of distinct elements per structure
(``scipy.stats.wasserstein_distance``).
"""

from __future__ import annotations

from collections.abc import Sequence

from mfdisco.core import Crystal

__all__ = ["density_g_per_cm3", "wasserstein_density", "wasserstein_num_elements"]

_AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660


def density_g_per_cm3(crystal: Crystal) -> float:
    """Mass density ρ = Σ m_i / V in g/cm³ (atomic masses from pymatgen)."""
    from pymatgen.core.periodic_table import Element

    mass = sum(float(Element(symbol).atomic_mass) for symbol in crystal.species)
    return mass / crystal.volume * _AMU_PER_A3_TO_G_PER_CM3


def _wasserstein(generated: Sequence[float], reference: Sequence[float], what: str) -> float:
    from scipy.stats import wasserstein_distance

    if not generated or not reference:
        raise ValueError(f"Wasserstein distance of {what} needs non-empty generated and reference sets")
    return float(wasserstein_distance(generated, reference))


def wasserstein_density(generated: Sequence[Crystal], reference: Sequence[Crystal]) -> float:
    """W₁ between the density distributions (g/cm³)."""
    return _wasserstein([density_g_per_cm3(c) for c in generated], [density_g_per_cm3(c) for c in reference], "density")


def wasserstein_num_elements(generated: Sequence[Crystal], reference: Sequence[Crystal]) -> float:
    """W₁ between the distributions of the number of distinct elements."""
    return _wasserstein([len(set(c.species)) for c in generated], [len(set(c.species)) for c in reference], "number of elements")
