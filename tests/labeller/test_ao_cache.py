"""The XC grid's AO cache: the same energies as without it, one collocation per grid block."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal
from mfdisco.labeller import LabelSettings, label
from mfdisco.labeller import methods


@pytest.mark.parametrize(("fidelity", "kmesh"), [("scan", (1, 1, 1)), ("pbe", (2, 1, 1))])
def test_cached_and_uncached_labels_agree_to_the_last_digits(lih: Crystal, fast: dict, fidelity: str, kmesh: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = LabelSettings(**{**fast, "pseudo": "auto", "basis": "gth-szv", "grid_level": 0}, kmesh=kmesh, descriptors=False)
    cached = label(lih, fidelity, settings)
    monkeypatch.setattr(methods, "AO_CACHE_SHARE", 0.0)  # a zero budget: every block evaluated, as PySCF does
    uncached = label(lih, fidelity, settings)
    assert cached.status == uncached.status == "done"
    assert cached.energy_ev == pytest.approx(uncached.energy_ev, abs=1e-9)


def test_blocks_are_evaluated_once_and_read_only(lih: Crystal, fast: dict) -> None:
    from mfdisco.core import Fidelity
    from mfdisco.labeller.cell import build_cell

    settings = LabelSettings(**{**fast, "pseudo": "auto", "basis": "gth-szv"})
    cell = build_cell(lih, Fidelity.PBE, settings)
    result = methods.run_mean_field(cell, Fidelity.PBE, settings, unrestricted=False)
    cache = result.mf._numint.ao_cache
    assert cache.misses >= 1 and cache.hits >= 2 * cache.misses  # collocated once, reused at every iteration
    ao = result.mf._numint.eval_ao(cell, result.mf.grids.coords, deriv=1)
    again = result.mf._numint.eval_ao(cell, result.mf.grids.coords, deriv=1)
    assert again is ao and not ao.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        ao[0, 0, 0] = 1.0


def _lih_cell(lih: Crystal, fast: dict, **changes: object):  # noqa: ANN202 - a PySCF Cell
    from mfdisco.core import Fidelity
    from mfdisco.labeller.cell import build_cell

    return build_cell(lih, Fidelity.PBE, LabelSettings(**{**fast, "pseudo": "auto", "basis": "gth-szv", **changes}))


def test_time_reversal_pairs_a_gamma_centred_mesh(lih: Crystal, fast: dict) -> None:
    from mfdisco.labeller.ao_cache import time_reversal_partners, time_reversal_sources

    cell = _lih_cell(lih, fast)
    kpts = cell.make_kpts((3, 3, 3))
    partners = time_reversal_partners(cell, kpts)
    sum_frac = cell.get_scaled_kpts(kpts) + cell.get_scaled_kpts(kpts[partners])
    assert np.allclose(sum_frac, np.round(sum_frac), atol=1e-8)  # k + k_partner is a reciprocal lattice vector
    assert np.array_equal(partners[partners], np.arange(27))  # an involution
    assert len(time_reversal_sources(partners)) == 14  # Γ and 13 pairs
    assert len(time_reversal_sources(time_reversal_partners(cell, cell.make_kpts((2, 2, 2))))) == 8  # all time-reversal invariant


def test_half_mesh_collocation_equals_the_full_one(lih: Crystal, fast: dict) -> None:
    """φ₋ₖ = φₖ*: values at the partners are conjugates, equal to PySCF's direct evaluation to rounding."""
    from pyscf.pbc.dft import gen_grid, numint

    from mfdisco.labeller.ao_cache import CachedKNumInt, time_reversal_partners, time_reversal_sources

    cell = _lih_cell(lih, fast)
    kpts = cell.make_kpts((3, 2, 1))
    coords = gen_grid.UniformGrids(cell).coords[::7]
    sources = time_reversal_sources(time_reversal_partners(cell, kpts))
    assert len(sources) == 4  # Γ, (1/3, 0, 0) and (0, 1/2, 0), (1/3, 1/2, 0); their partners are conjugates
    cached = CachedKNumInt(int(1e8))
    stored = 0
    for deriv in (0, 1):
        direct = numint.eval_ao_kpts(cell, coords, kpts, deriv=deriv)
        half = cached.eval_ao(cell, coords, kpts, deriv=deriv)
        assert len(half) == len(direct) == 6
        for ours, pyscf in zip(half, direct, strict=True):
            assert ours.shape == pyscf.shape and np.allclose(ours, pyscf, atol=1e-12, rtol=0)
        stored += sum(direct[k].nbytes for k in sources)
    assert cached.ao_cache.misses == 2 and cached.ao_cache.used_bytes == stored  # only the sources are kept


def test_uniform_grid_blocks_are_found_again(lih: Crystal, fast: dict) -> None:
    """An FFT grid hands out new coordinate arrays at every call; blocks are keyed by content."""
    from pyscf.pbc.dft import gen_grid

    from mfdisco.labeller.ao_cache import CachedNumInt

    cell = _lih_cell(lih, fast)
    grids = gen_grid.UniformGrids(cell)
    cached = CachedNumInt(int(1e9))
    first = cached.eval_ao(cell, grids.coords, deriv=1)
    assert cached.eval_ao(cell, grids.coords, deriv=1) is first
    assert (cached.ao_cache.hits, cached.ao_cache.misses) == (1, 1)


def test_a_grid_larger_than_the_budget_is_cached_block_by_block(lih: Crystal, fast: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are capped at BLOCK_SHARE of the budget: a grid whose AO values exceed the budget is mostly cached.

    Without the cap PySCF hands the small grid over as one block, which would not fit and
    leave the whole grid uncached.
    """
    from mfdisco.core import Fidelity

    settings = LabelSettings(**{**fast, "pseudo": "auto", "basis": "gth-szv"}, descriptors=False)
    cell = _lih_cell(lih, fast)
    whole = methods.run_mean_field(cell, Fidelity.PBE, settings, unrestricted=False)
    full_bytes = whole.mf._numint.ao_cache.used_bytes  # every block fits the default budget
    monkeypatch.setattr(methods, "AO_CACHE_MAX_MB", 0.6 * full_bytes / 1e6)
    partial = methods.run_mean_field(cell, Fidelity.PBE, settings, unrestricted=False)
    cache = partial.mf._numint.ao_cache
    assert 0.45 * full_bytes < cache.used_bytes <= cache.budget_bytes
    assert cache.hits > 0.4 * (cache.hits + cache.misses)  # the cached blocks are read at every later iteration
    assert float(partial.mf.e_tot) == pytest.approx(float(whole.mf.e_tot), abs=1e-10)
