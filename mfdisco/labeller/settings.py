"""Settings of a label: everything that defines a periodic PySCF calculation.

Two labels compare only when their settings hash is equal. Defaults per fidelity:

    ============  ===================  ===================================  =================
    fidelity      method               basis / pseudopotential (auto)       functional
    ============  ===================  ===================================  =================
    pbe           RKS / UKS            gth-dzvp-molopt-sr / gth-pbe         PBE
    scan          RKS / UKS            gth-dzvp-molopt-sr / gth-pbe         r2SCAN (libxc)
    hse06         RKS / UKS            gth-dzvp-molopt-sr / gth-pbe         HSE06 (ω = 0.11)
    ccsd_t        RHF/UHF → CCSD → (T) gth-cc-dzvp, else gth-dzvp-molopt-sr  -
                                       / gth-hf-rev
    ============  ===================  ===================================  =================

Why these bases: PySCF's ``gth-dzvp`` covers H-Ar only (no Ca, Sr, Ba, 3d metals);
``gth-dzvp-molopt-sr`` (CP2K's DZVP-MOLOPT-SR-GTH) covers every element of the default
set. Coupled cluster needs pseudopotentials made for Hartree-Fock (``gth-hf-rev``);
their correlation-consistent basis ``gth-cc-dzvp`` exists in PySCF for H, Li, C, N, O
only, so other elements take the MOLOPT-SR basis when it was made for the same number
of valence electrons as the HF pseudopotential (all default elements but Zn, whose HF
pseudopotential keeps 20 electrons against the basis' 12: refused). The resolved pair
of every element is recorded with the label.

Measured (MgO PBE, Gaussian density fitting, 2 threads; benchmarks/labeller/):
    - ``ke_cutoff_ha`` does not change DFT energies with density fitting (XC on Becke
      grids; identical to 1e-6 eV at 50-100 Ha) nor their time: MgO SCAN took 85 s with
      PySCF's own mesh and 74 s at 100 Ha, same energy. (A PBE run once took 297 s and
      5.7 GB with PySCF's mesh: the ELF descriptor was evaluated on that mesh; it now has
      its own 0.15 Å grid.)
    - ``grid_level`` 2 and 1 move MgO by 0.06 and 0.03 mHa/cell against level 3.
    - ``exp_to_discard=0.1`` halves the PBE time (+0.24 mHa/cell on MgO) but moves the
      MgO HF/CCSD(T) energy by 51 mHa/cell (1.38 eV), and removes heavily weighted
      valence primitives of Ca, Sr, Ba, Ti, V, Cr, Co, Ni, Zn (Li: 9 eV): not a default.
    - MgO CCSD(T): converged in 46 s with one thread; with two threads the first CCSD
      attempt did not converge (with PySCF's mesh or ours), the level-shifted retry did
      (18.5 s in all, the same energy to 0.3 meV/cell).
      SrTiO3 CCSD(T): 265 s on 2 threads (PySCF's mesh: 260 s, same energy).
    - ``precision`` 1e-6: +0.36 mHa/cell; 1e-5: +4.8 eV/atom (unusable).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mfdisco.core import Fidelity, MfdiscoError

__all__ = [
    "LabelSettings",
    "UnsupportedElementError",
    "default_settings",
    "settings_hash",
    "resolve_basis",
    "DEFAULT_MAGMOMS",
    "XC_FUNCTIONALS",
]

#: libxc functional names per DFT fidelity. SCAN is r2SCAN (regularised-restored SCAN,
#: numerically stable on grids); HSE06 is PySCF's "HSE06" (libxc HYB_GGA_XC_HSE06).
XC_FUNCTIONALS: dict[Fidelity, str] = {
    Fidelity.PBE: "PBE",
    Fidelity.SCAN: "MGGA_X_R2SCAN,MGGA_C_R2SCAN",
    Fidelity.HSE06: "HSE06",
}
#: Initial moments (μB per atom) of open-shell ions; high-spin 2+/3+ values.
DEFAULT_MAGMOMS: dict[str, float] = {"Ti": 1.0, "V": 3.0, "Cr": 3.0, "Mn": 5.0, "Fe": 4.0, "Co": 3.0, "Ni": 2.0, "Cu": 1.0}

_AUTO_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "dft": (("gth-dzvp-molopt-sr", "gth-pbe"),),
    "hf": (("gth-cc-dzvp", "gth-hf-rev"), ("gth-dzvp-molopt-sr", "gth-hf-rev")),
}


class UnsupportedElementError(MfdiscoError, ValueError):
    """An element has no basis / pseudopotential pair for the requested calculation."""


class LabelSettings(BaseModel):
    """Settings of one calculation (validated; immutable).

    Attributes:
        basis: basis name for every element, a per-element mapping, or ``"auto"``.
        pseudo: pseudopotential name, a per-element mapping, or ``"auto"``.
        ke_cutoff_ha: plane-wave kinetic-energy cutoff of the real-space grid (Hartree);
            None lets PySCF choose the grid from ``precision`` (its default, often 135³ for MgO).
        mesh: explicit real-space grid (overrides ``ke_cutoff_ha``); for matched grids of a
            cell and its supercell.
        exp_to_discard: drop Gaussian primitives more diffuse than this exponent (Bohr⁻²);
            they cost lattice sums over many images and add little in a solid. None keeps all.
        precision: PySCF's integral screening threshold (sets lattice-sum cut-offs).
        kmesh: Monkhorst-Pack k-mesh; (1, 1, 1) is Γ only. Ignored when ``kspacing`` is set.
        kspacing: k-point spacing (Å⁻¹, 2π included, as VASP's KSPACING): each structure
            gets the Γ-centred mesh n_i = max(1, ⌈|b_i| / kspacing⌉) of its reciprocal
            vectors b_i, so structures of any cell size share one k-point density (and one
            settings hash); the mesh used is recorded with the label. None: ``kmesh``.
        kpoint_supercell_atoms: sample the k-points of the compact supercell with at least
            this many atoms (the Born-von Kármán cell, chosen as the correlation supercell
            is: :func:`~mfdisco.labeller.supercells.compact_supercell_matrix`), a
            generalised, possibly non-diagonal mesh. Cells of one lattice then share one
            Born-von Kármán cell where a mesh density would not: with 32 the 2-atom
            rocksalts (16 k-points) and the 4-atom ordered rocksalts (8) are both sampled
            by the 32-atom bcc-shaped supercell of edge √3·a, so their energy differences
            carry no sampling mismatch (``kspacing`` 0.9 gives 3×3×3 and 2×2×2: 0.05-0.07
            eV/atom, measured). Excludes ``kmesh`` and ``kspacing``.
        density_fit: ``gdf`` (Gaussian density fitting, default), ``rsgdf`` (range-separated) or ``fft``.
        grid_level: Becke grid level (0-9) of the atom-centred XC grid that PySCF 2.14 uses
            with Gaussian density fitting; there ``ke_cutoff_ha`` does not enter the DFT
            energy (measured: MgO PBE identical to 1e-6 eV at 50, 70 and 100 Ha). With
            ``fft`` the XC grid is the uniform mesh of ``ke_cutoff_ha``.
        xc: libxc functional; None takes the fidelity's (see ``XC_FUNCTIONALS``).
        exxdiv: treatment of the G = 0 divergence of exact exchange (HF, hybrids):
            ``ewald`` (PySCF's Madelung probe-charge correction, the physical default) or ``none``.
        short_range_exchange: how screened hybrids (HSE06) get their short-range exact
            exchange with Gaussian density fitting: ``split`` (default) as the full-range
            K minus a plane-wave long-range K (:mod:`mfdisco.labeller.range_separation`),
            or ``attenuated``, PySCF's own erfc-attenuated density-fitting integrals
            (7-13× slower, same energy to 1e-9 Ha per cell on the pool's metals). An
            algorithm choice, not physics: it is not hashed.
        multigrid: integrate the XC potential with PySCF's multigrid (Γ, FFT density
            fitting, LDA/GGA only); PySCF's periodic RKS/UKS gradients need it.
        spin: ``auto`` (unrestricted when an open-shell ion from ``magmoms`` is present),
            ``restricted`` or ``unrestricted``.
        magmoms: initial moment per element (μB); sets the fixed total spin of unrestricted runs.
        smearing_ha: Fermi-Dirac smearing width (Hartree), 0 for none; the SCF retries
            add 0.01 Ha on metals that do not converge, and the label records it.
        correlation_at_gamma: CCSD(T) as a composite when the k-mesh is not Γ: the HF energy
            on the k-mesh (where most of the finite-size error of a small cell sits: exact
            exchange) plus the CCSD and (T) correlation energies of the same cell at Γ
            (E = E_HF(k) + E_corr,CCSD(Γ) + E_(T)(Γ)). Correlation on a k-mesh costs N_k³
            more (measured: MgO at 2x2x2 ran past 30 minutes on one core) and PySCF has
            no k-point UCCSD(T); the composite also serves open-shell cells. Its residual
            error is the finite-size error of the correlation energy at Γ (documented in
            the labeller's README section).
        correlation_supercell_atoms: with ``correlation_at_gamma``, compute the Γ
            correlation in the compact supercell of at least this many atoms
            (:mod:`mfdisco.labeller.supercells`) and divide it by the multiple, so that
            cells of different sizes (a binary oxide's 2-atom cell, an ordered ternary's
            4-atom cell) carry correlation energies with the same finite-size error. The
            supercell is also used when the k-mesh is Γ. None: the cell itself.
        frozen_core: freeze semicore orbitals (electrons below the outer shell kept by the
            pseudopotential, e.g. Mg 2s2p) in coupled cluster.
        conv_tol_ha: SCF energy convergence (Hartree).
        max_scf_cycles: iterations per SCF attempt.
        max_cc_cycles: CCSD iterations of the first attempt; the retry runs four times as
            many with a level shift of 0.2 Ha on the amplitude update.
        forces: compute forces (and stress) where PySCF has gradients (GGA DFT at Γ with
            ``fft`` density fitting and ``multigrid``).
        descriptors: compute the quantum descriptors of PBE labels (gap, DOS, ELF, ε∞).
        max_memory_mb: memory PySCF may use.
        max_orbitals: refuse calculations with more orbitals: per cell for DFT and HF, over the
            whole k-mesh for coupled cluster on a k-mesh.
        threads: BLAS / PySCF threads.
        timeout_s: wall-clock limit of the child process running the calculation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: str | dict[str, str] = "auto"
    pseudo: str | dict[str, str] = "auto"
    ke_cutoff_ha: float | None = Field(100.0, gt=0)
    mesh: tuple[int, int, int] | None = None
    exp_to_discard: float | None = Field(None, gt=0)
    precision: float = Field(1e-8, gt=0, lt=1)
    kmesh: tuple[int, int, int] = (1, 1, 1)
    kspacing: float | None = Field(None, gt=0)
    kpoint_supercell_atoms: int | None = Field(None, ge=2, le=128)
    density_fit: Literal["gdf", "rsgdf", "fft"] = "gdf"
    grid_level: int = Field(3, ge=0, le=9)
    xc: str | None = None
    exxdiv: Literal["ewald", "none"] = "ewald"
    short_range_exchange: Literal["split", "attenuated"] = "split"
    multigrid: bool = False
    spin: Literal["auto", "restricted", "unrestricted"] = "auto"
    magmoms: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MAGMOMS))
    smearing_ha: float = Field(0.0, ge=0)
    correlation_at_gamma: bool = False
    correlation_supercell_atoms: int | None = Field(None, ge=2, le=16)
    frozen_core: bool = False
    conv_tol_ha: float = Field(1e-8, gt=0)
    max_scf_cycles: int = Field(100, gt=0)
    max_cc_cycles: int = Field(50, gt=0)
    forces: bool = True
    descriptors: bool = True
    max_memory_mb: int = Field(4000, gt=0)
    max_orbitals: int = Field(400, gt=0)
    threads: int = Field(1, gt=0)
    timeout_s: float = Field(3600.0, gt=0)

    @model_validator(mode="after")
    def _one_k_sampling(self) -> LabelSettings:
        if any(n < 1 for n in self.kmesh):
            raise ValueError(f"kmesh {tuple(self.kmesh)}: every entry must be >= 1")
        if self.kspacing is not None and tuple(self.kmesh) != (1, 1, 1):
            raise ValueError(f"give kmesh {tuple(self.kmesh)} or kspacing {self.kspacing}, not both")
        if self.kpoint_supercell_atoms is not None and (self.kspacing is not None or tuple(self.kmesh) != (1, 1, 1)):
            raise ValueError(f"kpoint_supercell_atoms {self.kpoint_supercell_atoms} sets the k-points itself: leave kmesh at (1, 1, 1) and kspacing unset")
        if self.correlation_supercell_atoms is not None and not self.correlation_at_gamma:
            raise ValueError(f"correlation_supercell_atoms {self.correlation_supercell_atoms} needs correlation_at_gamma: true (it sets where the Γ correlation is computed)")
        return self

    def physics(self) -> dict[str, Any]:
        """The settings that change the result (hashed); resources, limits and algorithm choices with the same result excluded.

        ``kspacing``, ``kpoint_supercell_atoms``, ``correlation_at_gamma`` and ``correlation_supercell_atoms`` enter only when set, so the hashes of labels
        made before they existed stay valid.
        """
        values = self.model_dump(exclude={"forces", "descriptors", "max_memory_mb", "max_orbitals", "threads", "timeout_s", "short_range_exchange"})
        for added in ("kspacing", "kpoint_supercell_atoms", "correlation_at_gamma", "correlation_supercell_atoms"):  # fields added later enter only when set
            if values[added] in (None, False):
                del values[added]
        return values


def default_settings(fidelity: Fidelity | str, **changes: Any) -> LabelSettings:
    """Default settings of a fidelity, with ``changes`` applied (validated)."""
    Fidelity.parse(fidelity)
    return LabelSettings(**changes)


#: How the CCSD(T) reference is obtained, part of its settings hash: the converged HF is checked
#: for internal instabilities and moved to the minimum (``methods.follow_instabilities``).
#: CCSD(T) labels computed before this check (on possible saddle points) no longer match.
CCSD_T_REFERENCE = "stability-checked"


def settings_hash(fidelity: Fidelity | str, settings: LabelSettings) -> str:
    """SHA-256 of the fidelity and the physics settings (resources and limits excluded)."""
    fidelity = Fidelity.parse(fidelity)
    payload = {"fidelity": fidelity.value, **settings.physics()}
    if fidelity is Fidelity.CCSD_T:
        payload["reference"] = CCSD_T_REFERENCE
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def resolve_basis(fidelity: Fidelity, settings: LabelSettings, elements: list[str]) -> dict[str, tuple[str, str]]:
    """The (basis, pseudopotential) pair of each element.

    Raises:
        UnsupportedElementError: naming each element without a usable pair and why.
    """
    family = "hf" if fidelity is Fidelity.CCSD_T else "dft"
    resolved: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for element in sorted(set(elements)):
        candidates = _candidates(element, settings, family)
        reasons = []
        for basis, pseudo in candidates:
            reason = _pair_problem(element, basis, pseudo)
            if reason is None:
                resolved[element] = (basis, pseudo)
                break
            reasons.append(reason)
        else:
            problems.append(f"{element}: " + "; ".join(reasons))
    if problems:
        raise UnsupportedElementError(f"no basis/pseudopotential for {fidelity.value}: " + " | ".join(problems))
    return resolved


def _candidates(element: str, settings: LabelSettings, family: str) -> list[tuple[str, str]]:
    auto = _AUTO_PAIRS[family]
    basis = settings.basis if isinstance(settings.basis, str) else settings.basis.get(element, "auto")
    pseudo = settings.pseudo if isinstance(settings.pseudo, str) else settings.pseudo.get(element, "auto")
    if basis == "auto" and pseudo == "auto":
        return list(auto)
    if basis == "auto":
        return [(b, pseudo) for b, _ in auto]
    if pseudo == "auto":
        return [(basis, p) for _, p in auto[:1]]
    return [(basis, pseudo)]


def _pair_problem(element: str, basis: str, pseudo: str) -> str | None:
    """Why (basis, pseudo) cannot describe ``element``; None when it can."""
    from pyscf.pbc.gto import basis as basis_library
    from pyscf.pbc.gto import pseudo as pseudo_library

    try:
        with warnings.catch_warnings():  # PySCF suggests basis-set-exchange for a missing entry
            warnings.simplefilter("ignore", UserWarning)
            basis_library.load(basis, element)
    except MemoryError:  # out of memory is not a missing entry
        raise
    except Exception:  # noqa: BLE001 - PySCF raises assorted errors for a missing entry
        return f"basis {basis} has no {element}"
    try:
        charge = int(sum(pseudo_library.load(pseudo, element)[0]))
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001
        return f"pseudopotential {pseudo} has no {element}"
    designed_for = _basis_valence(basis, element)
    if designed_for is not None and designed_for != charge:
        return f"basis {basis} is made for {designed_for} valence electrons, {pseudo} keeps {charge}"
    return None


@lru_cache(maxsize=256)
def _basis_valence(basis: str, element: str) -> int | None:
    """Valence electrons a PySCF GTH basis file says its entry was made for (its ``-qN`` tag)."""
    path = files("pyscf.pbc.gto") / "basis" / f"{basis.lower()}.dat"
    try:
        text = path.read_text()
    except (FileNotFoundError, OSError):
        return None
    match = re.search(rf"^\s*{element}\s+.*?-q(\d+)\b", text, flags=re.MULTILINE)
    return int(match.group(1)) if match else None
