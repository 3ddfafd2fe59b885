"""Symmetries of the denoiser: permutation, rotation, translation, periodicity, conditioning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfdisco.generator.denoiser import Denoiser
from mfdisco.validator.physics_checks import random_rotation


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    num_atoms = torch.tensor([3, 5])
    types = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 2, 0, 0, 1, 3]), 4).double()
    lattice = torch.stack([torch.eye(3) * 4 + 0.3 * torch.randn(3, 3) for _ in range(2)]).double()
    return {
        "types": types, "frac_coords": torch.rand(8, 3, dtype=torch.float64), "lattice": lattice, "num_atoms": num_atoms,
        "t": torch.tensor([0.3, 0.8], dtype=torch.float64), "condition": torch.randn(2, 5, dtype=torch.float64),
    }


@pytest.fixture
def model() -> Denoiser:
    torch.manual_seed(1)
    return Denoiser(num_types=4, condition_dim=5, hidden=16, layers=2, fourier_frequencies=4).double().eval()


def test_permutation_of_atoms_permutes_the_per_atom_outputs(model: Denoiser, batch: dict) -> None:
    out = model(**batch)
    permutation = torch.tensor([2, 0, 1, 7, 3, 6, 4, 5])  # within each crystal
    permuted = model(**{**batch, "types": batch["types"][permutation], "frac_coords": batch["frac_coords"][permutation]})
    assert torch.allclose(permuted["coords"], out["coords"][permutation], atol=1e-10)
    assert torch.allclose(permuted["types"], out["types"][permutation], atol=1e-10)
    assert torch.allclose(permuted["lattice"], out["lattice"], atol=1e-10)


def test_rotation_rotates_the_lattice_output_only(model: Denoiser, batch: dict) -> None:
    rotation = torch.as_tensor(random_rotation(np.random.default_rng(2)))
    out = model(**batch)
    rotated = model(**{**batch, "lattice": batch["lattice"] @ rotation.T})
    assert torch.allclose(rotated["lattice"], out["lattice"] @ rotation.T, atol=1e-10)
    assert torch.allclose(rotated["coords"], out["coords"], atol=1e-10) and torch.allclose(rotated["types"], out["types"], atol=1e-10)


def test_translation_and_integer_shifts_of_fractional_coordinates(model: Denoiser, batch: dict) -> None:
    out = model(**batch)
    translated = model(**{**batch, "frac_coords": batch["frac_coords"] + torch.tensor([0.13, -0.4, 0.77], dtype=torch.float64)})
    shifted = model(**{**batch, "frac_coords": batch["frac_coords"] + torch.randint(-2, 3, (8, 3)).double()})
    for other in (translated, shifted):
        assert all(torch.allclose(other[k], out[k], atol=1e-9) for k in out)


def test_condition_mask_selects_the_null_embedding(model: Denoiser, batch: dict) -> None:
    unconditional = model(**{**batch, "condition": None})
    masked = model(**{**batch, "condition_mask": torch.tensor([False, False])})
    conditional = model(**batch)
    assert torch.allclose(masked["coords"], unconditional["coords"])
    assert not torch.allclose(conditional["coords"], unconditional["coords"])
    with pytest.raises(ValueError, match="positive"):
        Denoiser(num_types=0)


def test_a_batch_of_one_atom_cells_has_no_edges_and_still_runs(model: Denoiser, batch: dict) -> None:
    """fcc/bcc metals (one atom per cell) can fill a whole training batch: no atom pairs at all."""
    one_atom = {
        **batch, "types": batch["types"][:2], "frac_coords": batch["frac_coords"][:2], "num_atoms": torch.tensor([1, 1]),
    }
    out = model(**one_atom)
    assert out["coords"].shape == (2, 3) and out["lattice"].shape == (2, 3, 3)
    assert all(torch.isfinite(value).all() for value in out.values())
