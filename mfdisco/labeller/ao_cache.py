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

Blocks are found again by content (the bytes of their coordinates and screening mask),
since a uniform (FFT) grid hands out new coordinate arrays at every call, and they are
kept at most :data:`BLOCK_SHARE` of the budget each, so that a grid whose AO values
exceed the budget still has most of its blocks cached instead of none.

On a k-mesh, time reversal halves the work: the Bloch sums of real atomic orbitals obey
φ₋ₖ(r) = φₖ(r)*, and a Γ-centred mesh holds -k (up to a reciprocal lattice vector) for
every k, so only the independent k-points are collocated (14 of 27 on 3×3×3) and cached;
their partners are the complex conjugates.

On the Γ point the cached values are the very arrays PySCF would have computed, so
energies are unchanged to the last bit; on a k-mesh the conjugated partners differ from
PySCF's direct evaluation by rounding (energies agree to 1e-12 Ha; tests compare
against the uncached run).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from pyscf.dft.gen_grid import BLKSIZE
from pyscf.pbc.dft import numint

__all__ = ["AoCache", "BLOCK_SHARE", "CachedNumInt", "CachedKNumInt", "time_reversal_partners", "time_reversal_sources", "expand_kpts", "with_ao_cache"]

#: The largest share of the cache budget that one grid block's AO values may take.
BLOCK_SHARE = 0.125
#: PySCF's largest grid block, in units of BLKSIZE points.
_MAX_BLOCK_UNITS = 2400


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
        arrays = _arrays_in(values)
        size = sum(a.nbytes for a in arrays)
        if self.used_bytes + size <= self.budget_bytes:
            for array in arrays:
                array.flags.writeable = False
            self._blocks[key] = values
            self.used_bytes += size
        return values


def _arrays_in(values: Any) -> list[np.ndarray]:  # noqa: ANN401 - an array or nested lists of arrays
    """Every array in ``values`` (an array, or lists and tuples of them, nested)."""
    if isinstance(values, np.ndarray):
        return [values]
    if isinstance(values, list | tuple):
        return [array for item in values for array in _arrays_in(item)]
    return []


def _block_key(cell, coords: np.ndarray, kpts: Any, deriv: int, shls_slice: Any, non0tab: Any, cutoff: Any) -> tuple:  # noqa: ANN001, ANN401
    """Identify a grid block by content: its points, the mask rows that cover them, the k-points, what is evaluated.

    PySCF passes the mask from the block's first row to the end of the grid; only the
    rows of this block's points enter the key.
    """
    digest = hashlib.blake2b(np.ascontiguousarray(coords).tobytes(), digest_size=16)
    if non0tab is not None:
        rows = -(-coords.shape[0] // BLKSIZE)
        digest.update(np.ascontiguousarray(non0tab[:rows]).tobytes())
    k = None if kpts is None else np.asarray(kpts, dtype=float).tobytes()
    return (id(cell), coords.shape, digest.hexdigest(), non0tab is None, k, deriv, shls_slice, cutoff)


def time_reversal_partners(cell, kpts: np.ndarray) -> np.ndarray:  # noqa: ANN001 - a PySCF Cell
    """For each k-point, the index of -k in ``kpts`` up to a reciprocal lattice vector (-1: none).

    Args:
        cell: the PySCF cell (its lattice gives the fractional k-coordinates).
        kpts: k-points (Bohr⁻¹). ``[n_k, 3]``

    Returns:
        ``partner[i] = j`` with k_j ≡ -k_i; a time-reversal invariant point (Γ, zone-boundary
        midpoints) is its own partner. ``[n_k]``
    """
    frac = np.asarray(cell.get_scaled_kpts(np.reshape(kpts, (-1, 3))))  # [n_k, 3]
    total = frac[:, None, :] + frac[None, :, :]  # k_i + k_j, an integer vector for partners
    match = np.all(np.abs(total - np.round(total)) < 1e-8, axis=2)  # [n_k, n_k]
    return np.where(match.any(axis=1), match.argmax(axis=1), -1)


def time_reversal_sources(partners: np.ndarray) -> np.ndarray:
    """The k-points to collocate: each one whose partner is not an earlier source. ``[n_sources]``"""
    sources: list[int] = []
    for k, partner in enumerate(partners):
        if not (0 <= partner < k and partner in sources):
            sources.append(k)
    return np.asarray(sources, dtype=int)


def expand_kpts(half: list, partners: np.ndarray, sources: np.ndarray) -> list:
    """The full k-list from the values at ``sources``: a partner is the conjugate of its source."""
    position = {int(k): i for i, k in enumerate(sources)}
    return [half[position[k]] if k in position else np.conj(half[position[int(partners[k])]]) for k in range(len(partners))]


class _CachedCollocation:
    """AO collocation through an :class:`AoCache`, for PySCF's ``NumInt`` and ``KNumInt``.

    Grid blocks keep the same size at every call, so that cached blocks are found again:
    PySCF sizes its blocks from the memory still free, which shrinks as the cache grows, so
    the first call's size is kept for the later ones. It is also capped at
    :data:`BLOCK_SHARE` of the budget.
    """

    #: PySCF's collocation function of the class (Γ: ``eval_ao``; k-points: ``eval_ao_kpts``).
    _collocate = None

    def __init__(self, budget_bytes: int) -> None:
        super().__init__()
        self.ao_cache = AoCache(budget_bytes)
        self._block_sizes: dict[tuple, int] = {}
        self._pairings: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # (cell id, k-points) -> time-reversal pairing

    def reset(self, cell=None):  # noqa: ANN001, ANN201 - PySCF API
        self.ao_cache.clear()
        self._block_sizes.clear()
        self._pairings.clear()
        return super().reset(cell)

    def block_loop(self, cell, grids, nao=None, deriv=0, kpts=None, kpts_band=None, max_memory=2000,  # noqa: ANN001, ANN201, PLR0913 - PySCF API
                   non0tab=None, blksize=None):
        if blksize is None and self.ao_cache.budget_bytes > 0:
            blksize = self._block_size(cell, grids, nao or cell.nao, deriv, kpts, kpts_band, max_memory)
        return super().block_loop(cell, grids, nao, deriv, kpts, kpts_band, max_memory, non0tab, blksize)

    def _block_size(self, cell, grids, nao: int, deriv: int, kpts: Any, kpts_band: Any, max_memory: float) -> int:  # noqa: ANN001, ANN401, PLR0913
        """Points per grid block (a multiple of BLKSIZE): PySCF's own size, capped at BLOCK_SHARE of the budget."""
        n_points = int(grids.size)  # a uniform grid would generate its coordinates again for .coords
        if n_points == 0:  # an atom-centred grid not built yet; PySCF's block_loop builds it the same way
            n_points = int(grids.build(with_non0tab=True).size)
        n_k = len(np.reshape(kpts, (-1, 3))) if kpts is not None else 1
        n_k += len(np.reshape(kpts_band, (-1, 3))) if kpts_band is not None else 0
        key = (deriv, n_k, nao, n_points)
        if key not in self._block_sizes:
            comp = (deriv + 1) * (deriv + 2) * (deriv + 3) // 6
            pyscf_units = int(max_memory * 1e6 / (comp * 2 * n_k * nao * 16 * BLKSIZE))  # PySCF's sizing from free memory
            stored_bytes = comp * self._stored_kpoints(cell, kpts) * nao * 16 * BLKSIZE  # one BLKSIZE of cached values
            cap_units = int(BLOCK_SHARE * self.ao_cache.budget_bytes / stored_bytes)
            units = max(1, min(pyscf_units, cap_units, n_points // BLKSIZE + 1, _MAX_BLOCK_UNITS))
            self._block_sizes[key] = units * BLKSIZE
        return self._block_sizes[key]

    def _stored_kpoints(self, cell, kpts: Any) -> int:  # noqa: ANN001, ANN401
        """How many k-points' values one cached block holds."""
        return 1

    def eval_ao(self, cell, coords, kpts=None, deriv=0, relativity=0, shls_slice=None,  # noqa: ANN001, ANN201, PLR0913 - PySCF API
                non0tab=None, cutoff=None, out=None, verbose=None, **kwargs):
        collocate = type(self)._collocate
        points = (cell, coords) if kpts is None else (cell, coords, kpts)  # None: the function's own default k-point(s)
        if out is not None or relativity or kwargs:
            return collocate(*points, deriv=deriv, relativity=relativity, shls_slice=shls_slice, non0tab=non0tab,
                             cutoff=cutoff, out=out, verbose=verbose, **kwargs)
        key = _block_key(cell, coords, kpts, deriv, shls_slice, non0tab, cutoff)
        options = {"deriv": deriv, "shls_slice": shls_slice, "non0tab": non0tab, "cutoff": cutoff, "verbose": verbose}
        return self._from_cache(key, cell, coords, kpts, options)

    def _from_cache(self, key: tuple, cell, coords: np.ndarray, kpts: Any, options: dict[str, Any]) -> Any:  # noqa: ANN001, ANN401
        collocate = type(self)._collocate
        points = (cell, coords) if kpts is None else (cell, coords, kpts)
        return self.ao_cache.lookup(key, lambda: collocate(*points, **options))


class CachedNumInt(_CachedCollocation, numint.NumInt):
    """Γ-point (single k-point) ``NumInt`` whose AO collocation is cached (:class:`AoCache`)."""

    _collocate = staticmethod(numint.eval_ao)


class CachedKNumInt(_CachedCollocation, numint.KNumInt):
    """k-point ``KNumInt`` whose AO collocation is cached, at the independent k-points only.

    A block's values at the k-points without an earlier time-reversal partner are
    collocated and cached; the partners' values are their complex conjugates
    (:func:`time_reversal_partners`).
    """

    _collocate = staticmethod(numint.eval_ao_kpts)

    def _time_reversal(self, cell, kpts: Any) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001, ANN401
        """(partners, sources) of ``kpts``, computed once per cell and k-point set."""
        kpts = np.reshape(np.asarray(kpts, dtype=float), (-1, 3))
        key = (id(cell), kpts.tobytes())
        if key not in self._pairings:
            partners = time_reversal_partners(cell, kpts)
            self._pairings[key] = (partners, time_reversal_sources(partners))
        return self._pairings[key]

    def _stored_kpoints(self, cell, kpts: Any) -> int:  # noqa: ANN001, ANN401
        return 1 if kpts is None else len(self._time_reversal(cell, kpts)[1])

    def _from_cache(self, key: tuple, cell, coords: np.ndarray, kpts: Any, options: dict[str, Any]) -> Any:  # noqa: ANN001, ANN401
        if kpts is None or np.ndim(kpts) == 1:  # one k-point: PySCF returns a single array
            return super()._from_cache(key, cell, coords, kpts, options)
        kpts = np.reshape(kpts, (-1, 3))
        partners, sources = self._time_reversal(cell, kpts)
        if len(sources) == len(kpts):
            return super()._from_cache(key, cell, coords, kpts, options)
        half = self.ao_cache.lookup(key, lambda: numint.eval_ao_kpts(cell, coords, kpts[sources], **options))
        return expand_kpts(half, partners, sources)


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
