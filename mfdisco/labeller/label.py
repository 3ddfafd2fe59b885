"""``label(crystal, fidelity, settings) -> Label``: one periodic PySCF calculation, as a pure function.

The function never raises for a calculation that goes wrong: an element without a
basis or a cost over the limits gives a ``refused`` label, non-convergence or a
numerical failure a ``failed`` label, each with the reason. It is safe to run as a
Ray task and to retry. Energies are converted from Hartree with PySCF's own constant.
"""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

import numpy as np

from mfdisco import __version__
from mfdisco.core import BOHR_TO_ANGSTROM, HARTREE_TO_EV, Crystal, Fidelity, Label
from mfdisco.labeller.cell import build_cell, cell_kmesh, kpoint_supercell_matrix, spin_state, supercell_madelung_energy
from mfdisco.labeller.descriptors import compute_descriptors
from mfdisco.labeller.cost import estimate_cost, frozen_orbitals, limit_problem
from mfdisco.labeller.methods import ScfNotConverged, dft_gradient, follow_instabilities, has_integer_occupations, run_ccsd_t, run_mean_field
from mfdisco.labeller.range_separation import short_range_exchange_detail
from mfdisco.labeller.settings import (
    XC_FUNCTIONALS,
    LabelSettings,
    UnsupportedElementError,
    settings_hash,
)
from mfdisco.labeller.supercells import correlation_supercell, supercell_multiple

__all__ = ["label", "failed_label", "software_versions", "ccsd_t_energy_parts"]

logger = logging.getLogger(__name__)

_FORCE = HARTREE_TO_EV / BOHR_TO_ANGSTROM  # Ha/Bohr -> eV/Å


def software_versions() -> dict[str, str]:
    """Versions that a label depends on."""
    import pyscf

    return {"pyscf": pyscf.__version__, "numpy": np.__version__, "mfdisco": __version__}


def failed_label(fidelity: Fidelity, settings: LabelSettings, reason: str, wall_time_s: float | None = None) -> Label:
    """A ``failed`` label for a calculation that returned nothing (timeout, lost worker, crash)."""
    return Label(
        fidelity=fidelity,
        settings=settings.model_dump(mode="json"),
        settings_hash=settings_hash(fidelity, settings),
        status="failed",
        error=reason,
        wall_time_s=wall_time_s,
        versions=software_versions(),
    )


def ccsd_t_energy_parts(result: Label, n_atoms: int) -> tuple[float, float]:
    """(HF, CCSD + (T) correlation) energy per atom in eV/atom of a done CCSD(T) label.

    From the details every CCSD(T) label stores per cell (``e_hf_ev``, ``e_ccsd_corr_ev``,
    ``e_t_ev``); for the composite of ``correlation_at_gamma`` the HF part is the k-mesh
    one and the correlation the Γ one of its correlation cell, per atom.

    Raises:
        ValueError: ``result`` is not a done CCSD(T) label, or ``n_atoms`` < 1.
    """
    if result.fidelity is not Fidelity.CCSD_T or result.status != "done" or n_atoms < 1:
        raise ValueError(f"HF and correlation parts need a done CCSD(T) label of >= 1 atom, got a {result.status} {result.fidelity.value} label of {n_atoms} atoms")
    details = result.details
    return details["e_hf_ev"] / n_atoms, (details["e_ccsd_corr_ev"] + details["e_t_ev"]) / n_atoms


def label(crystal: Crystal, fidelity: Fidelity | str, settings: LabelSettings | None = None) -> Label:
    """Compute the label of ``crystal`` at ``fidelity``.

    DFT fidelities run KS-DFT (RKS or UKS) with the fidelity's functional; ``ccsd_t``
    runs HF → CCSD → (T), at Γ or on the k-mesh of the settings (closed shell only). Forces come from PySCF's analytic gradients when
    ``settings.forces`` and ``settings.multigrid`` are set (GGA at Γ with FFT density
    fitting); PySCF has none with Gaussian density fitting, none for CCSD(T), and no
    stress with the multigrid integrator.

    Args:
        crystal: the structure (Å).
        fidelity: level of theory.
        settings: calculation settings; defaults when None.

    Returns:
        The label, ``done``, ``failed`` or ``refused`` with the reason.
    """
    fidelity = Fidelity.parse(fidelity)
    settings = settings or LabelSettings()
    start = time.perf_counter()
    base: dict[str, Any] = {
        "fidelity": fidelity,
        "settings": settings.model_dump(mode="json"),
        "settings_hash": settings_hash(fidelity, settings),
        "versions": software_versions(),
    }

    def finish(**values: Any) -> Label:
        values.setdefault("details", {})["peak_rss_mb"] = _peak_rss_mb()
        return Label(**base, wall_time_s=time.perf_counter() - start, **values)

    from pyscf import lib

    lib.num_threads(settings.threads)
    try:
        cell = build_cell(crystal, fidelity, settings)  # resolves each element's basis/pseudopotential pair
    except UnsupportedElementError as error:
        return finish(status="refused", error=str(error))
    estimate = estimate_cost(crystal, fidelity, settings, cell)
    pairs = {element: [cell.basis[element], cell.pseudo[element]] for element in sorted(cell.basis)}
    details: dict[str, Any] = {"cost": estimate.as_dict(), "basis": pairs, "kmesh": list(cell_kmesh(cell, settings))}
    bvk = kpoint_supercell_matrix(cell, settings)
    if bvk is not None:  # the k-points sample this supercell instead of a mesh
        details["kmesh"] = None
        details["kpoint_supercell"] = {"matrix": bvk.tolist(), "n_atoms": crystal.num_sites * estimate.n_kpts}
    if fidelity is not Fidelity.CCSD_T:
        details["xc"] = settings.xc or XC_FUNCTIONALS[fidelity]
        if (exchange := short_range_exchange_detail(settings, details["xc"])) is not None:
            details["short_range_exchange"] = exchange
    problem = limit_problem(estimate, settings)
    if problem is None and bvk is not None and estimate.n_kpts > 1:
        problem = _supercell_sampling_problem(fidelity, settings)
    if problem is None and fidelity is Fidelity.CCSD_T and estimate.unrestricted and estimate.n_kpts > 1 and not settings.correlation_at_gamma:
        problem = f"open-shell CCSD(T) on a k-mesh {details['kmesh']} is not available in PySCF (no k-point UCCSD(T)); use a Γ-point supercell or correlation_at_gamma"
    if problem is None and fidelity is Fidelity.CCSD_T and estimate.n_virtual - (estimate.two_s > 0) < 1:
        problem = f"{estimate.n_ao} orbitals for {estimate.n_occupied} occupied leave no virtual orbital for CCSD(T); use a larger basis"
    if problem is not None:
        return finish(status="refused", error=problem, details=details)
    try:
        return _compute(crystal, cell, fidelity, settings, details, estimate.unrestricted, finish)
    except ScfNotConverged as error:
        return finish(status="failed", error=str(error), converged=False, details=details)
    except (MemoryError, np.linalg.LinAlgError, ValueError, RuntimeError, ArithmeticError) as error:
        logger.warning("labelling failed: %s: %s", type(error).__name__, error)
        return finish(status="failed", error=f"{type(error).__name__}: {error}", details=details)


def _compute(crystal: Crystal, cell, fidelity: Fidelity, settings: LabelSettings, details: dict[str, Any], unrestricted: bool, finish) -> Label:  # noqa: ANN001
    scf_start = time.perf_counter()
    result = run_mean_field(cell, fidelity, settings, unrestricted)
    mf = result.mf
    details["scf_time_s"] = time.perf_counter() - scf_start
    details["scf_strategy"] = result.strategy.name
    details["scf_attempts"] = result.attempts
    details["smearing_ha"] = max(result.strategy.smearing_ha, settings.smearing_ha)
    details["two_s"] = int(cell.spin)
    moment = float(cell.spin) if unrestricted else 0.0
    forces = None
    descriptors = None
    # exact exchange (HF, hybrids) on Born-von Kármán k-points gets its Madelung term here; 0 otherwise
    madelung_ha = supercell_madelung_energy(cell, settings, details.get("xc"))
    if madelung_ha:
        details["madelung_energy_ev"] = madelung_ha * HARTREE_TO_EV
    mean_field_ha = float(mf.e_tot) + madelung_ha
    if fidelity is Fidelity.CCSD_T:
        if has_integer_occupations(mf):  # a smeared reference is refused by run_ccsd_t
            details["hf_stability"] = follow_instabilities(mf)
            details["scf_time_s"] = time.perf_counter() - scf_start
        n_frozen = frozen_orbitals(crystal, cell) if settings.frozen_core else 0
        multiple = supercell_multiple(crystal.num_sites, settings.correlation_supercell_atoms)
        if settings.correlation_at_gamma and (details["cost"]["n_kpts"] > 1 or multiple > 1):
            energies = _composite_ccsd_t(crystal, cell, settings, unrestricted, mean_field_ha, details)
        else:
            energies = run_ccsd_t(mf, n_frozen, settings.max_cc_cycles)
        details.update({f"{key}_ev": value * HARTREE_TO_EV for key, value in energies.items() if key.startswith("e_")})
        details["n_frozen"] = n_frozen
        details["cc_attempts"] = energies["cc_attempts"]
        if not energies["cc_converged"]:
            reason = "CCSD did not converge: " + "; ".join(energies["cc_attempts"])
            return finish(status="failed", error=reason, converged=False, details=details, magnetic_moment=moment)
        energy_ha = energies["e_total"]
    else:
        energy_ha = mean_field_ha
        if settings.forces and settings.multigrid:
            forces = _forces(mf, details)
        elif settings.forces:
            details["forces"] = "not computed: PySCF's periodic gradients need multigrid=True (FFT, Γ, LDA/GGA)"
        if settings.descriptors and fidelity is Fidelity.PBE:
            descriptor_start = time.perf_counter()
            descriptors = compute_descriptors(mf)
            details["descriptor_time_s"] = time.perf_counter() - descriptor_start
    energy_ev = energy_ha * HARTREE_TO_EV
    return finish(
        status="done",
        energy_ev=energy_ev,
        energy_per_atom_ev=energy_ev / crystal.num_sites,
        forces_ev_per_a=forces,
        converged=True,
        magnetic_moment=moment,
        descriptors=descriptors,
        details=details,
    )


def _composite_ccsd_t(crystal: Crystal, cell, settings: LabelSettings, unrestricted: bool, e_hf_kmesh: float, details: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    """E_HF on the k-mesh + CCSD and (T) correlation at Γ (``correlation_at_gamma``); Hartree per cell.

    The correlation comes from the cell itself or, with ``correlation_supercell_atoms``,
    from its compact supercell of m cells (HF and CCSD(T) at Γ there), divided by m.
    """
    gamma = settings.model_copy(update={"kmesh": (1, 1, 1), "kspacing": None, "kpoint_supercell_atoms": None})
    supercell, matrix = correlation_supercell(crystal, settings.correlation_supercell_atoms)
    multiple = supercell.num_sites // crystal.num_sites
    if multiple > 1:
        cell = build_cell(supercell, Fidelity.CCSD_T, gamma)
        unrestricted = spin_state(supercell, gamma, cell.nelectron).unrestricted
        details["correlation_supercell"] = {"matrix": matrix.tolist(), "n_atoms": supercell.num_sites, "lattice_a": supercell.lattice.tolist()}
    n_frozen = frozen_orbitals(supercell, cell) if settings.frozen_core else 0
    reference = run_mean_field(cell, Fidelity.CCSD_T, gamma, unrestricted)
    details["scf_attempts_gamma"] = reference.attempts
    if has_integer_occupations(reference.mf):
        details["hf_stability_gamma"] = follow_instabilities(reference.mf)
    energies = run_ccsd_t(reference.mf, n_frozen, settings.max_cc_cycles)
    for key in ("e_hf", "e_ccsd_corr", "e_t"):
        energies[key] /= multiple  # per cell of the crystal
    energies["e_hf_gamma"] = energies["e_hf"]
    energies["e_hf"] = e_hf_kmesh
    energies["e_total"] = e_hf_kmesh + energies["e_ccsd_corr"] + energies["e_t"]
    return energies


def _supercell_sampling_problem(fidelity: Fidelity, settings: LabelSettings) -> str | None:
    """Why a label cannot run on the Born-von Kármán k-points of ``kpoint_supercell_atoms``, or None.

    PySCF's exchange-divergence terms assume a Monkhorst-Pack mesh: HF and hybrids get the
    supercell's Madelung term added after their SCF (:func:`.cell.supercell_madelung_energy`),
    but k-point coupled cluster (which shifts occupied levels by the mesh's term) is not corrected.
    """
    if fidelity is Fidelity.CCSD_T and not settings.correlation_at_gamma:
        return "k-point CCSD(T) on the Born-von Kármán k-points of kpoint_supercell_atoms is not supported; set correlation_at_gamma"
    return None


def _peak_rss_mb() -> float:
    """Peak resident memory of this process image (MB); the calculation's own when run isolated.

    Linux's ``VmHWM`` (the high-water mark of this address space, which ``exec`` starts
    afresh) rather than ``ru_maxrss``, which a spawned child inherits from its parent: a
    label isolated from a 20 GB parent reported 20 GB.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _forces(mf, details: dict[str, Any]) -> list | None:  # noqa: ANN001
    try:
        gradient = dft_gradient(mf)
    except NotImplementedError as error:
        details["forces"] = f"not available in PySCF for this method: {error}"
        return None
    details["stress"] = "not computed: PySCF 2.14 has no periodic stress with the multigrid integrator"
    return (-gradient * _FORCE).tolist()
