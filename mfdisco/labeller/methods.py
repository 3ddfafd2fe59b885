"""PySCF runs: mean field (KS-DFT or HF) with a retry ladder, coupled cluster, gradients.

Everything here works in PySCF's units (Hartree, Bohr); :mod:`mfdisco.labeller.label`
converts at the boundary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfdisco.core import Fidelity
from mfdisco.labeller.range_separation import splits_short_range_exchange, with_split_short_range_exchange
from mfdisco.labeller.settings import XC_FUNCTIONALS, LabelSettings

__all__ = ["ScfStrategy", "SCF_LADDER", "FLAT_INSTABILITY_HA", "MeanFieldResult", "run_mean_field", "follow_instabilities", "has_integer_occupations", "run_ccsd_t", "dft_gradient", "ScfNotConverged"]

logger = logging.getLogger(__name__)


class ScfNotConverged(RuntimeError):
    """Every SCF strategy of the ladder failed to converge."""


@dataclass(frozen=True)
class ScfStrategy:
    """One SCF attempt: damping, level shift (Ha), Fermi smearing (Ha), second-order solver."""

    name: str
    damp: float = 0.0
    level_shift_ha: float = 0.0
    smearing_ha: float = 0.0
    newton: bool = False


#: Share of ``max_memory_mb`` that the XC grid's AO values may take (:mod:`.ao_cache`), and its ceiling (MB).
AO_CACHE_SHARE = 0.25
AO_CACHE_MAX_MB = 1024.0

#: A stability restart lowering the HF energy by less than this (Ha per cell) ends the search (:func:`follow_instabilities`).
FLAT_INSTABILITY_HA = 1e-6

#: Tried in order until one converges.
SCF_LADDER: tuple[ScfStrategy, ...] = (
    ScfStrategy("diis"),
    ScfStrategy("damped", damp=0.5),
    ScfStrategy("level-shift", damp=0.3, level_shift_ha=0.3),
    ScfStrategy("smeared", smearing_ha=0.01),
    ScfStrategy("second-order", newton=True),
)


@dataclass
class MeanFieldResult:
    """A converged mean-field object and how it was obtained."""

    mf: Any
    strategy: ScfStrategy
    attempts: list[str] = field(default_factory=list)


def _mean_field(cell, fidelity: Fidelity, settings: LabelSettings, unrestricted: bool):  # noqa: ANN001, ANN202
    from pyscf.pbc import dft, scf

    from mfdisco.labeller.cell import cell_kpoints

    kpts = cell_kpoints(cell, settings)  # [n_k, 3] Bohr⁻¹
    gamma = len(kpts) == 1
    if fidelity is Fidelity.CCSD_T:
        if gamma:
            mf = scf.UHF(cell) if unrestricted else scf.RHF(cell)
        else:
            mf = scf.KUHF(cell, kpts) if unrestricted else scf.KRHF(cell, kpts)
    else:
        xc = settings.xc or XC_FUNCTIONALS[fidelity]
        if gamma:
            mf = dft.UKS(cell, xc=xc) if unrestricted else dft.RKS(cell, xc=xc)
        else:
            mf = dft.KUKS(cell, kpts, xc=xc) if unrestricted else dft.KRKS(cell, kpts, xc=xc)
    if unrestricted and not gamma:
        # PySCF counts the electrons and 2S of a k-point UHF/UKS over the whole k-mesh; the
        # cell's spin state (cell.spin = 2S per cell) is repeated on every k-point.
        n_k = len(kpts)
        mf.nelec = ((cell.nelectron + cell.spin) // 2 * n_k, (cell.nelectron - cell.spin) // 2 * n_k)
    if settings.multigrid and fidelity is not Fidelity.CCSD_T:
        if settings.density_fit != "fft" or not gamma:
            raise ValueError("multigrid needs FFT density fitting at the Γ point (density_fit='fft', kmesh=(1, 1, 1))")
        mf = mf.multigrid_numint()
    if settings.density_fit == "gdf":
        mf = mf.density_fit()
    elif settings.density_fit == "rsgdf":
        mf = mf.rs_density_fit()
    if fidelity is not Fidelity.CCSD_T and splits_short_range_exchange(settings):
        mf = with_split_short_range_exchange(mf)  # HSE06: no erfc-attenuated integrals (a no-op for PBE, r2SCAN)
    if hasattr(mf, "grids") and hasattr(mf.grids, "level"):
        mf.grids.level = settings.grid_level  # atom-centred (Becke) XC grid, used with density fitting
    if (settings.exxdiv == "none" or (settings.kpoint_supercell_atoms is not None and not gamma)) and hasattr(mf, "exxdiv"):
        mf.exxdiv = None  # on Born-von Kármán k-points the Madelung term is added after the SCF (cell.supercell_madelung_energy)
    mf.conv_tol = settings.conv_tol_ha
    mf.max_cycle = settings.max_scf_cycles
    mf.verbose = 0
    if fidelity is not Fidelity.CCSD_T and not settings.multigrid:
        from mfdisco.labeller.ao_cache import with_ao_cache

        mf = with_ao_cache(mf, min(AO_CACHE_MAX_MB, settings.max_memory_mb * AO_CACHE_SHARE))
    return mf


def run_mean_field(cell, fidelity: Fidelity, settings: LabelSettings, unrestricted: bool) -> MeanFieldResult:  # noqa: ANN001
    """Converge the SCF, climbing :data:`SCF_LADDER` until a strategy converges.

    The density-fitting integrals, the XC grid and the AO values cached on it
    (:mod:`.ao_cache`) of the first attempt are reused by the next ones.

    Raises:
        ScfNotConverged: listing each strategy tried and its last energy.
    """
    attempts: list[str] = []
    with_df = None
    shared_grid = None
    previous_dm = None
    for strategy in SCF_LADDER:
        mf = _mean_field(cell, fidelity, settings, unrestricted)
        if with_df is not None:
            mf.with_df = with_df
        if shared_grid is not None:
            mf.grids, mf._numint = shared_grid
        smearing = max(strategy.smearing_ha, settings.smearing_ha)
        if smearing > 0:
            from pyscf.pbc.scf.addons import smearing_

            mf = smearing_(mf, sigma=smearing, method="fermi")
        mf.damp = strategy.damp
        mf.level_shift = strategy.level_shift_ha
        if strategy.newton:
            mf = mf.newton()
        energy = mf.kernel(dm0=previous_dm)
        with_df = getattr(mf, "with_df", None)
        if hasattr(mf, "grids") and hasattr(mf, "_numint"):
            shared_grid = (mf.grids, mf._numint)
        if mf.converged:
            if attempts:
                logger.info("SCF converged with strategy %s after %s", strategy.name, ", ".join(attempts))
            return MeanFieldResult(mf, strategy, attempts + [f"{strategy.name}: converged"])
        attempts.append(f"{strategy.name}: not converged (E = {float(energy):.8f} Ha)")
        density = np.asarray(mf.make_rdm1())
        previous_dm = density if np.all(np.isfinite(density)) else None
    raise ScfNotConverged("SCF did not converge: " + "; ".join(attempts))


def has_integer_occupations(mf) -> bool:  # noqa: ANN001 - a PySCF mean-field object
    """Whether every orbital occupation is an integer (no Fermi smearing left in the reference)."""
    occupations = np.concatenate([np.ravel(o) for o in (mf.mo_occ if isinstance(mf.mo_occ, list | tuple) else [mf.mo_occ])])
    return bool(np.all(np.abs(occupations - np.round(occupations)) <= 1e-6))


def _internal_stability(mf) -> tuple[Any, bool]:  # noqa: ANN001 - a converged PySCF HF object
    """PySCF's internal stability analysis: (orbitals to restart from, stable?).

    The orbital Hessian's lowest eigenvalue is found by Davidson iterations; when it is
    negative (below -1e-5 Ha) the SCF stopped at a saddle point and the returned orbitals are rotated
    along that eigenvector. PySCF's k-point UHF analysis does not report a status: it
    returns the input orbitals themselves when they are stable.
    """
    from pyscf.pbc.scf import kuhf

    if isinstance(mf, kuhf.KUHF):
        orbitals = mf.stability(internal=True, external=False)[0]
        return orbitals, orbitals is mf.mo_coeff
    orbitals, _, stable, _ = mf.stability(internal=True, external=False, return_status=True)
    return orbitals, bool(stable)


def follow_instabilities(mf, max_rounds: int = 3, min_energy_drop_ha: float = FLAT_INSTABILITY_HA) -> dict[str, Any]:  # noqa: ANN001 - a converged PySCF HF object
    """Move a converged HF reference off saddle points before correlating it.

    A converged SCF only satisfies the stationarity condition: ionic oxides (rocksalt
    MgO, CaO, SrO at Γ with gth-cc-dzvp) converge from the default guess to a saddle
    point 0.2-0.3 Ha per cell above the true RHF minimum, and CCSD(T) on such a
    reference inherits the error. Each round runs PySCF's internal stability analysis
    (real orbital rotations within the same restricted or unrestricted space) and,
    when an instability is found, restarts the SCF from the rotated orbitals on the
    same object, keeping its density-fitting integrals. ``mf`` is updated in place.

    A restart that lowers the energy by less than ``min_energy_drop_ha`` ends the search:
    the analysis found a flat direction, not a saddle point. Metals do this: the k-mesh
    RHF of bcc Mg, Ca and Sr (``kpoint`` preset) was reported unstable after every one of
    three restarts while each lowered the energy by 1e-8 Ha (rotations among degenerate
    orbitals at the Fermi level), which cost 230-260 s of a 310-330 s label.

    Args:
        mf: a converged HF object (Γ RHF/UHF or k-point KRHF/KUHF) with integer occupations.
        max_rounds: restarts at most; the analysis after the last one is reported.
        min_energy_drop_ha: a restart lowering the energy by less than this (Ha per cell)
            stops the search.

    Returns:
        ``status`` ("stable", "flat: ..." or "unstable after N restarts"), ``restarts``, ``energy_drop_ha``
        (the SCF energy lost by the restarts, Ha per cell, ≥ 0), ``energies_ha`` (after each
        restart) and ``time_s``.

    Raises:
        ScfNotConverged: an SCF restarted from rotated orbitals did not converge.
    """
    import time

    start = time.perf_counter()
    e_start = float(mf.e_tot)
    energies: list[float] = []
    stable = False
    flat = None
    for restart in range(max_rounds + 1):
        orbitals, stable = _internal_stability(mf)
        if stable or restart == max_rounds:
            break
        before = float(mf.e_tot)
        density = mf.make_rdm1(orbitals, mf.mo_occ)
        energy = float(mf.kernel(dm0=density))
        if not mf.converged:
            raise ScfNotConverged(f"the HF reference is unstable and the SCF restarted from the rotated orbitals did not converge (E = {energy:.8f} Ha)")
        energies.append(energy)
        logger.info("HF instability followed: E = %.8f Ha (was %.8f Ha)", energy, e_start)
        if before - energy < min_energy_drop_ha:
            flat = f"flat: restart {len(energies)} changed the energy by {energy - before:+.1e} Ha (a drop under {min_energy_drop_ha:g})"
            break
    return {
        "status": "stable" if stable else flat or f"unstable after {len(energies)} restarts",
        "restarts": len(energies),
        "energy_drop_ha": e_start - float(mf.e_tot),
        "energies_ha": energies,
        "time_s": time.perf_counter() - start,
    }


def run_ccsd_t(mf, n_frozen: int, max_cycles: int = 50) -> dict[str, Any]:  # noqa: ANN001
    """CCSD and (T) on a converged HF reference, retried once if CCSD does not converge.

    Γ point: RCCSD(T) on an RHF reference, UCCSD(T) on a UHF one. k-mesh: KRCCSD and the
    k-point (T) of PySCF (``kccsd_t_rhf``) on a KRHF reference; energies are per cell,
    averaged over the k-mesh (PySCF has no k-point UCCSD(T): open-shell k-meshes are
    refused before running). The retry starts from the last amplitudes with four times
    the iterations, a larger DIIS space and a level shift of 0.2 Ha in the amplitude update.

    Returns:
        ``e_hf``, ``e_ccsd_corr``, ``e_t``, ``e_total`` (Hartree per cell), ``cc_converged``
        and ``cc_attempts`` (one line per attempt).

    Raises:
        ValueError: the reference has fractional occupations (it converged only with
            smearing) or is an open-shell k-point one.
    """
    from pyscf.pbc import cc
    from pyscf.pbc.scf import khf, kuhf, uhf

    if not has_integer_occupations(mf):
        raise ValueError("the HF reference has fractional occupations (it converged only with Fermi smearing); CCSD(T) needs integer ones")
    kpoints = isinstance(mf, khf.KSCF)
    if kpoints and isinstance(mf, kuhf.KUHF):
        raise ValueError("open-shell CCSD(T) on a k-mesh is not available in PySCF; use kmesh (1, 1, 1) with a supercell")
    # pyscf.pbc.cc.CCSD is RCCSD, which turns a UHF reference into an RHF one: pick the
    # unrestricted solver for open-shell references (O2 triplet, magnetic oxides).
    solver = cc.KRCCSD if kpoints else cc.UCCSD if isinstance(mf, uhf.UHF) else cc.RCCSD
    mycc = solver(mf, frozen=n_frozen or None)
    mycc.verbose = 0
    mycc.max_cycle = max_cycles
    eris = mycc.ao2mo()
    mycc.kernel(eris=eris)
    attempts = [f"default ({max_cycles} cycles): {'converged' if mycc.converged else 'not converged'}"]
    if not mycc.converged:
        mycc.max_cycle = 4 * max_cycles
        mycc.diis_space = 12
        mycc.level_shift = 0.2
        mycc.kernel(t1=mycc.t1, t2=mycc.t2, eris=eris)
        attempts.append(f"level-shift 0.2 Ha ({4 * max_cycles} cycles): {'converged' if mycc.converged else 'not converged'}")
    e_t = float("nan")
    if mycc.converged:
        if kpoints:
            e_t = _kpoint_triples(mycc, eris)
        else:
            e_t = float(mycc.ccsd_t(eris=eris))
    e_hf = float(mf.e_tot)
    return {
        "e_hf": e_hf,
        "e_ccsd_corr": float(np.real(mycc.e_corr)),
        "e_t": e_t,
        "e_total": e_hf + float(np.real(mycc.e_corr)) + e_t,
        "cc_converged": bool(mycc.converged),
        "cc_attempts": attempts,
    }


def _kpoint_triples(mycc, eris) -> float:  # noqa: ANN001 - PySCF KRCCSD and its integrals
    """The k-point (T) energy (Hartree per cell), computed in a private temporary folder.

    PySCF's k-point (T) writes its integrals to ``tmp_t3_eris.h5`` in the working folder
    and reads back any such file that is complete, even one left by another
    calculation; in a folder of its own each calculation sees only its own file.
    """
    import os
    import tempfile

    from pyscf.pbc.cc import kccsd_t_rhf

    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="mfdisco-t3-") as scratch:
        os.chdir(scratch)
        try:
            return float(np.real(kccsd_t_rhf.kernel(mycc, eris, verbose=0)))
        finally:
            os.chdir(here)


def dft_gradient(mf) -> np.ndarray:  # noqa: ANN001
    """Nuclear gradient dE/dR (Ha/Bohr). ``[n_atoms, 3]``

    PySCF 2.14 computes periodic RKS/UKS gradients with the multigrid integrator only,
    and its stress tensor with the plain integrator only, so one run gives forces and
    no stress.

    Raises:
        NotImplementedError: when PySCF has no gradient for this method.
    """
    gradients = mf.nuc_grad_method()
    gradients.verbose = 0
    return np.asarray(gradients.kernel())
