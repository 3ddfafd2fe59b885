"""The GIN descriptor proxy: invariances and learning a structural target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.core import Crystal
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.generator.proxy import DescriptorProxy, fit_proxy, proxy_graphs
from mfdisco.validator.physics_checks import random_rotation


@pytest.fixture(scope="module")
def crystals() -> list[Crystal]:
    every = [r.crystal for r in builtin_prototypes()]
    return every[::3]


def test_prediction_is_invariant_to_rotation_translation_permutation_and_supercells(crystals: list[Crystal]) -> None:
    torch.manual_seed(0)
    proxy = DescriptorProxy(output_dim=3, hidden=16, layers=2).eval()
    crystal = max(crystals, key=lambda c: c.num_sites)
    assert crystal.num_sites >= 2
    rotation = random_rotation(np.random.default_rng(1))
    rotated = Crystal(crystal.lattice @ rotation.T, crystal.frac_coords, crystal.atomic_numbers)
    shifted = Crystal(crystal.lattice, crystal.frac_coords + [0.21, 0.7, 0.05], crystal.atomic_numbers)
    order = np.random.default_rng(2).permutation(crystal.num_sites)
    permuted = Crystal(crystal.lattice, crystal.frac_coords[order], np.asarray(crystal.atomic_numbers)[order])
    supercell = Crystal.from_pymatgen(crystal.to_pymatgen() * (2, 1, 1))
    reference = proxy.predict([crystal])
    for other in (rotated, shifted, permuted, supercell):
        assert np.allclose(proxy.predict([other]), reference, atol=1e-5)


def test_proxy_learns_the_volume_per_atom(crystals: list[Crystal]) -> None:
    targets = np.array([[c.volume / c.num_sites, len(set(c.species))] for c in crystals])
    proxy = fit_proxy(crystals, targets, epochs=40, hidden=32, layers=2, learning_rate=1e-2, batch_size=16, progress=False)
    predicted = proxy.predict(crystals)
    r2 = 1 - ((predicted[:, 0] - targets[:, 0]) ** 2).sum() / ((targets[:, 0] - targets[:, 0].mean()) ** 2).sum()
    assert r2 > 0.9, r2
    with pytest.raises(ValueError, match="shape"):
        fit_proxy(crystals, targets[:3])
    assert proxy_graphs(crystals[:2], 5.0).num_crystals == 2


def test_checkpoint_round_trip(crystals: list[Crystal], tmp_path) -> None:  # noqa: ANN001
    from mfdisco.generator.proxy import load_proxy, save_proxy

    targets = np.array([[c.volume / c.num_sites] for c in crystals])
    proxy = fit_proxy(crystals, targets, epochs=2, hidden=8, layers=1, progress=False)
    loaded, names = load_proxy(save_proxy(proxy, ["volume"], tmp_path / "p.pt"))
    assert names == ["volume"]
    np.testing.assert_array_equal(loaded.predict(crystals), proxy.predict(crystals))
    torch.load(tmp_path / "p.pt", weights_only=True)
