"""Named families of label settings: what a campaign, the pool and the CLI label with.

A preset gives settings for every fidelity and overrides for single fidelities; the
labeller config (``labeller.preset``) starts from it, then applies its own
``settings`` and ``per_fidelity``. Energies compare only within one family (one
settings hash per fidelity).

``gamma``
    Γ point only (``LabelSettings()`` as is). Fast; for cells of a few atoms the energy
    per atom carries finite-size errors of electronvolts (measured, 1 core: rocksalt MgO
    PBE −1075.42 eV/atom at Γ against −1080.69 at 3×3×3; fcc Mg −1730.37 against
    −1721.72), so formation energies and hulls of small cells are not meaningful.
``kpoint``
    Every cell on the Γ-centred mesh of ``kspacing = 0.9 Å⁻¹`` (MgO and fcc Mg 3×3×3,
    hcp Mg 3×3×2, the O₂ box 2×2×2), DFT with Fermi smearing of 0.01 Ha
    (:data:`METAL_SMEARING_HA`); CCSD(T) as the composite HF on that mesh +
    CCSD/(T) correlation at Γ (``correlation_at_gamma``). Measured: PBE ΔE_f(MgO) =
    −2.65 eV/atom (PBE literature −2.7 to −2.9; experiment −3.12); CCSD(T) ΔE_f(MgO) =
    −3.53 eV/atom on stability-checked references (HF part −3.21, CCSD correlation
    −0.34, (T) +0.02); CaO −3.02 (PBE) and −3.27 (CCSD(T)) against −3.29 measured. The
    double-zeta bases and the correlation energy of 2-atom cells at Γ (LiH: −0.54 eV/atom
    at Γ against −0.80 at 2×2×2) limit it. Costs 1.5-3× the Γ labels for DFT.
    Its CCSD(T) labels compare only between cells of one size: the Γ correlation per
    atom of rocksalt CaO is −3.87 eV in the 2-atom cell and −4.23 in a 4-atom cell of
    the same crystal, which moves mixing energies of the ordered rocksalts by up to
    0.4 eV/atom (``benchmarks/labeller/correlation_cell_size.py``).
    Its meshes also sample cells of different size differently (the 2-atom rocksalts
    3×3×3, a 54-atom Born-von Kármán cell; the 4-atom ordered ones 2×2×2, 32 atoms):
    computing CaO and SrO in the ordered cell's 4-atom cell on its 2×2×2 mesh moves
    them by −0.05 (HF) and +0.06-0.07 (PBE) eV/atom, and the mixing energy of CaSrO₂
    from −0.007 (HF) and +0.116 (PBE) to +0.047 and +0.049
    (``benchmarks/labeller/kmesh_convergence.py``). Energy differences between cells of
    different size carry that ±0.07 eV/atom.
``kpoint-sc4``
    ``kpoint`` with the Γ correlation of every cell computed in its compact supercell of
    at least 4 atoms (``correlation_supercell_atoms``): the 2-atom rocksalts in the
    tetragonal cell of the 4-atom ordered rocksalts, so binaries and ternaries carry
    correlation energies with the same finite-size error. Its DFT settings are
    ``kpoint``'s (the same labels); its CCSD(T) costs the 2-atom cells a 4-atom Γ
    CCSD(T) more (2-5 minutes on one core for the alkaline-earth oxides). Cells of
    other sizes (3 → 6 atoms, 5-atom perovskites) still differ in size from the 4-atom
    ones: the option matches the pool's binary and ternary rocksalts exactly, the rest
    only in part. Cells of equal size but another lattice are not matched either
    (``benchmarks/labeller/correlation_supercell.py``): the correlation part of the
    zincblende-rocksalt MgO energy is +0.117 eV/atom with 4-atom cells and +0.116 with
    8-atom ones, but that of cesium-chloride (simple cubic) against rocksalt moves from
    +0.078 to −0.059 (MgO) and from −0.437 to +0.044 eV/atom (CaO; SrO and BaO
    by 0.46 and 0.52), so the preset's B2 CCSD(T) labels are not comparable with its
    rocksalt ones.
``kpoint-bvk32``
    ``kpoint-sc4`` with the k-points of the compact 32-atom Born-von Kármán supercell
    instead of a mesh density (``kpoint_supercell_atoms``): the 2-atom rocksalts get 16
    k-points, the 4-atom ordered rocksalts 8, and both sample the same bcc-shaped
    supercell of edge √3·a, so mixing energies carry no sampling mismatch (the HF part
    and HSE06's short-range exact exchange get the supercell's Madelung terms). Metals
    get 32 k-points.
"""

from __future__ import annotations

from typing import Any

from mfdisco.core import Fidelity
from mfdisco.labeller.settings import LabelSettings

__all__ = ["METAL_SMEARING_HA", "PRESETS", "preset_settings"]

#: Fermi smearing of the k-point DFT labels (Ha; 0.27 eV). No effect on an insulator's
#: energy (occupations stay integer across a gap of a few kT), and it makes a metal's
#: Brillouin-zone sum converge: without it bcc Ca on 3×3×3 climbed the SCF ladder for
#: 1,287 s before converging smeared. HF (CCSD(T)) is never smeared: coupled cluster
#: needs integer occupations.
METAL_SMEARING_HA = 0.01

#: name → {"settings": for every fidelity, "per_fidelity": {fidelity: overrides}}.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "gamma": {"settings": {}, "per_fidelity": {}},
    "kpoint": {
        "settings": {"kspacing": 0.9},
        "per_fidelity": {
            "pbe": {"smearing_ha": METAL_SMEARING_HA},
            "scan": {"smearing_ha": METAL_SMEARING_HA},
            "hse06": {"smearing_ha": METAL_SMEARING_HA},
            "ccsd_t": {"correlation_at_gamma": True},
        },
    },
}
PRESETS["kpoint-sc4"] = {
    "settings": PRESETS["kpoint"]["settings"],
    "per_fidelity": {**PRESETS["kpoint"]["per_fidelity"], "ccsd_t": {"correlation_at_gamma": True, "correlation_supercell_atoms": 4}},
}


PRESETS["kpoint-bvk32"] = {
    "settings": {"kpoint_supercell_atoms": 32},
    "per_fidelity": PRESETS["kpoint-sc4"]["per_fidelity"],
}


def preset_settings(name: str, fidelity: Fidelity | str, **changes: Any) -> LabelSettings:
    """The settings of ``fidelity`` in preset ``name``, with ``changes`` on top (validated).

    Raises:
        ValueError: an unknown preset, naming the known ones.
    """
    if name not in PRESETS:
        raise ValueError(f"label preset {name!r} is not one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    fidelity = Fidelity.parse(fidelity)
    return LabelSettings(**{**preset["settings"], **preset["per_fidelity"].get(fidelity.value, {}), **changes})
