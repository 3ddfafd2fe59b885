"""CSP match rate / RMSE and Wasserstein distances on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal
from mfdisco.generator.metrics.csp import csp_match
from mfdisco.generator.metrics.distribution import density_g_per_cm3, wasserstein_density, wasserstein_num_elements


def nacl(a: float = 5.64) -> Crystal:
    lattice = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    return Crystal.from_species(lattice, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_match_rate_and_rmse() -> None:
    reference = nacl()
    shaken = Crystal(reference.lattice, reference.frac_coords + [[0.01, 0, 0], [0, 0, 0]], reference.atomic_numbers)
    cscl = Crystal.from_species(np.eye(3) * 3.3, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    overlapping = Crystal(reference.lattice, [[0, 0, 0], [0.01, 0, 0]], reference.atomic_numbers)
    score = csp_match([reference, shaken, cscl, overlapping, None], [reference] * 5)
    assert score.matched == 2 and score.match_rate == pytest.approx(0.4)
    assert 0 < score.rmse < 0.05
    with pytest.raises(ValueError, match="one prediction per reference"):
        csp_match([reference], [reference, reference])


def test_density_and_wasserstein() -> None:
    assert density_g_per_cm3(nacl()) == pytest.approx(2.17, abs=0.02)  # rock salt, experiment 2.165 g/cm³
    assert wasserstein_density([nacl()], [nacl()]) == pytest.approx(0.0)
    assert wasserstein_density([nacl(5.0)], [nacl()]) > 0.5
    metal = Crystal.from_species(np.eye(3) * 3.0, ["Fe"], [[0, 0, 0]])
    assert wasserstein_num_elements([metal, metal], [nacl(), nacl()]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-empty"):
        wasserstein_density([], [nacl()])
