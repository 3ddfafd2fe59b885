"""Atomic orbitals on the XC grid, evaluated once per SCF instead of once per iteration.

PySCF's periodic ``NumInt`` evaluates every AO (and its derivatives) on every point of
the XC grid at every SCF iteration, summing each over the lattice images within the
basis cutoff. For the small cells mfdisco labels that collocation is nearly the whole
cost of an iteration (measured: a 2-atom MgO cell, gth-szv, 31 268 Becke points,
0.95 s of a 0.98 s Fock build; the Coulomb part with density fitting took 0.01 s).
The AO values depend only on the cell, the grid and the k-point, so they are cached
here, block by block as PySCF asks for them, up to a memory budget; blocks beyond the
budget are evaluated as before. Cached arrays are read-only so that no caller can
change them in place.

The cached values are the very arrays PySCF would have computed, so energies are
unchanged to the last bit (tests compare against the uncached run).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyscf.pbc.dft import numint

__all__ = ["AoCache", "CachedNumInt", "CachedKNumInt", "with_ao_cache"]


class AoCache:
    """AO blocks keyed by where PySCF's grid block is and what it asks for.

    Args:
        budget_bytes: the most memory the cached blocks may take (bytes).
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = int(budget_bytes)
        self.used_bytes = 0
        self.hits = 0
        self.misses = 0
        self._blocks: dict[tuple, Any] = {}

    def clear(self) -> None:
        """Forget every block (the cell or the grid changed)."""
        self._blocks.clear()
        self.used_bytes = 0

    def lookup(self, key: tuple, evaluate) -> Any:  # noqa: ANN001, ANN401 - a callable returning AO arrays
        """The block for ``key``: cached, or ``evaluate()`` (stored when it fits the budget)."""
        if key in self._blocks:
            self.hits += 1
            return self._blocks[key]
        self.misses += 1
        values = evaluate()
        arrays = values if isinstance(values, list | tuple) else [values]
        size = sum(np.asarray(a).nbytes for a in arrays)
        if self.used_bytes + size <= self.budget_bytes:
            for array in arrays:
                if isinstance(array, np.ndarray):
                    array.flags.writeable = False
            self._blocks[key] = values
            self.used_bytes += size
        return values


def _block_key(cell, coords: np.ndarray, kpts: Any, deriv: int, shls_slice: Any, non0tab: Any, cutoff: Any) -> tuple:  # noqa: ANN001, ANN401
    """Identify a grid block: its memory, shape and checksum, the k-points and what is evaluated."""
    pointer = coords.__array_interface__["data"][0]
    mask = None if non0tab is None else (non0tab.__array_interface__["data"][0], non0tab.shape)
    k = None if kpts is None else np.asarray(kpts, dtype=float).tobytes()
    return (id(cell), pointer, coords.shape, float(coords.sum()), k, deriv, shls_slice, mask, cutoff)


class _CachedCollocation:
    """AO collocation through an :class:`AoCache`, for PySCF's ``NumInt`` and ``KNumInt``.

    Grid blocks keep the same size at every call, so that cached blocks are found again:
    PySCF sizes its blocks from the memory still free, which shrinks as the cache grows, so
    the first call's ``max_memory`` is kept for the later ones.
    """

    #: PySCF's collocation function of the class (Γ: ``eval_ao``; k-points: ``eval_ao_kpts``).
    _collocate = None

    def __init__(self, budget_bytes: int) -> None:
        super().__init__()
        self.ao_cache = AoCache(budget_bytes)
        self._pinned_memory_mb: float | None = None

    def reset(self, cell=None):  # noqa: ANN001, ANN201 - PySCF API
        self.ao_cache.clear()
        self._pinned_memory_mb = None
        return super().reset(cell)

    def block_loop(self, cell, grids, nao=None, deriv=0, kpts=None, kpts_band=None, max_memory=2000,  # noqa: ANN001, ANN201, PLR0913 - PySCF API
                   non0tab=None, blksize=None):
        if self._pinned_memory_mb is None:
            self._pinned_memory_mb = max_memory
        return super().block_loop(cell, grids, nao, deriv, kpts, kpts_band, self._pinned_memory_mb, non0tab, blksize)

    def eval_ao(self, cell, coords, kpts=None, deriv=0, relativity=0, shls_slice=None,  # noqa: ANN001, ANN201, PLR0913 - PySCF API
                non0tab=None, cutoff=None, out=None, verbose=None, **kwargs):
        collocate = type(self)._collocate
        points = (cell, coords) if kpts is None else (cell, coords, kpts)  # None: the function's own default k-point(s)
        if out is not None or relativity or kwargs:
            return collocate(*points, deriv=deriv, relativity=relativity, shls_slice=shls_slice, non0tab=non0tab,
                             cutoff=cutoff, out=out, verbose=verbose, **kwargs)
        key = _block_key(cell, coords, kpts, deriv, shls_slice, non0tab, cutoff)
        return self.ao_cache.lookup(key, lambda: collocate(*points, deriv=deriv, shls_slice=shls_slice, non0tab=non0tab, cutoff=cutoff, verbose=verbose))


class CachedNumInt(_CachedCollocation, numint.NumInt):
    """Γ-point (single k-point) ``NumInt`` whose AO collocation is cached (:class:`AoCache`)."""

    _collocate = staticmethod(numint.eval_ao)


class CachedKNumInt(_CachedCollocation, numint.KNumInt):
    """k-point ``KNumInt`` whose AO collocation (all k-points of a block) is cached."""

    _collocate = staticmethod(numint.eval_ao_kpts)


def with_ao_cache(mf: Any, budget_mb: float) -> Any:  # noqa: ANN401 - a PySCF KS object
    """Give the KS object ``mf`` a caching ``NumInt`` (same settings) and return it.

    Objects without a periodic ``NumInt`` (Hartree-Fock; multigrid) are returned unchanged.
    """
    current = getattr(mf, "_numint", None)
    if type(current) is numint.NumInt:
        cached = CachedNumInt(int(budget_mb * 1e6))
    elif type(current) is numint.KNumInt:
        cached = CachedKNumInt(int(budget_mb * 1e6))
    else:
        return mf
    for name, value in vars(current).items():
        setattr(cached, name, value)
    mf._numint = cached
    return mf
