"""The XC grid's AO cache: the same energies as without it, one collocation per grid block."""

from __future__ import annotations

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
