"""Quantum descriptors of a converged KS-DFT run (the PBE label): q = [q_DOS, q_ELF, q_response].

All energies in eV, per cell unless said otherwise. With k-points, sums over states run
over every k-point with weight 1/N_k.

Band filling, from the number of electrons and not from which states carry occupation
above a threshold (with Fermi smearing an insulator's chemical potential may sit anywhere
in the gap, close enough to the conduction band to give it occupations above any fixed
threshold, and a spin-polarised one may put a little of each spin into the other's gap):
    N = Σ_k w_k Σ_{n,σ} f_nkσ / f_max  states per k-point (f_max = 2 restricted, 1 per
    spin-orbital unrestricted); N not an integer (to 0.01) is a partly filled band, a metal.
    Otherwise the N lowest states at each k-point, both spins together when unrestricted,
    are the valence states; n_σ(k) of them have spin σ (O₂'s triplet: 7 α and 5 β).
Band gap:
    E_g = min_{k,σ} ε_{n_σ(k)+1,σ}(k) - max_{k,σ} ε_{n_σ(k),σ}(k)  (bands counted from 1);
    0 when the valence and conduction states overlap or a band is partly filled (a metal). The bands
    are those of the calculation's k-points: a metal whose sampled eigenvalues keep a gap
    (fcc Mg on 3×3×3, whose Fermi-surface crossings fall between the mesh points) counts
    as an insulator, as the calculation saw it.
Fermi level:
    E_F = (VBM + CBM) / 2 for an insulator; for a metal, the energy of the highest state
    filled when the electrons Σ_k w_k Σ_n f_nkσ are put into the sampled states from the
    bottom (zero temperature), independent of the smearing.
Density of states, on the fixed grid E - E_F = -20 ... +20 eV in 0.1 eV steps (wide, because
Γ-only sampling of small cells opens gaps far beyond the converged ones):
    g(E) = (1 / N_atoms) Σ_{n,k,σ} w_k f_σ exp(-(E - ε_nkσ)² / 2s²) / (s √(2π)),  s = 0.2 eV,
    in states / eV / atom (f_σ = 2 restricted, 1 per spin unrestricted); reported: the grid
    values, g(E_F), and the mean, standard deviation, skewness and kurtosis of g over the window.
Electron localisation function (Becke-Edgecombe, spin-resolved), on a uniform grid of about
0.15 Å spacing (its own grid, independent of ``ke_cutoff``, so statistics compare across structures):
    ELF = 1 / (1 + (D / D_h)²),  D = Σ_σ (τ_σ - |∇ρ_σ|² / (8 ρ_σ)),
    D_h = (3/10) (6π²)^(2/3) Σ_σ ρ_σ^(5/3),  τ_σ = ½ Σ_i |∇ψ_iσ|²  (atomic units);
    valence density only (pseudopotentials), points with ρ < 1e-5 a₀⁻³ count as 0. Reported:
    the volume mean, the volume fraction with ELF > 0.7 and a 10-bin histogram on [0, 1].
Dielectric constant in the independent-particle approximation (no local fields, no
non-local pseudopotential commutator), at the Γ point or over the k-mesh:
    ε_αα = 1 + (4π / Ω) Σ_{v,c,k,σ} w_k f_σ · 2 |⟨c|p_α|v⟩|² / ω_cv³,  p = -i∇,  ω_cv = ε_c - ε_v (a.u.),
    reported as the three diagonal components and their mean ε∞; undefined (None) for metals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mfdisco.core import HARTREE_TO_EV

__all__ = ["DOS_GRID_EV", "DOS_SMEARING_EV", "ELF_GRID_SPACING_BOHR", "METAL_GAP_EV", "compute_descriptors"]

#: Energies (relative to E_F, eV) on which the DOS is reported.
DOS_GRID_EV: np.ndarray = np.round(np.arange(-20.0, 20.0 + 1e-9, 0.1), 10)
DOS_SMEARING_EV: float = 0.2
#: Below this gap a system counts as a metal (eV).
METAL_GAP_EV: float = 0.05
_ELF_THRESHOLD = 0.7
_RHO_FLOOR = 1e-5
#: Target spacing of the ELF grid (Bohr), about 0.15 Å.
ELF_GRID_SPACING_BOHR: float = 0.28
_AO_CHUNK_BYTES = 256 * 1024**2  # Bloch AO values (and gradients) held at once for the ELF


def compute_descriptors(mf: Any) -> dict[str, Any]:  # noqa: ANN401 - a PySCF mean-field object
    """All descriptors of a converged KS-DFT (or HF) object; see the module docstring."""
    cell = mf.cell
    energies, occupations, coefficients, weights, kpts = _states(mf)
    restricted = _restricted(mf)
    n_states = _filled_states(occupations, weights, restricted)
    filling = _band_filling(energies, n_states, restricted)
    gap, fermi = _gap_and_fermi(energies, weights, filling, n_states, restricted)
    dos = _dos(energies, weights, fermi, cell.natm, restricted=restricted)
    descriptors: dict[str, Any] = {
        "band_gap_ev": gap,
        "fermi_level_ev": fermi,
        "metallic": gap < METAL_GAP_EV,
        "dos_grid_ev": [float(x) for x in DOS_GRID_EV],
        "dos_states_per_ev_atom": [float(x) for x in dos],
        "dos_at_fermi": float(dos[np.argmin(np.abs(DOS_GRID_EV))]),
        **_moments(dos),
        **_elf_statistics(mf),
    }
    dielectric = None if gap < METAL_GAP_EV or filling is None else _ipa_dielectric(cell, energies, filling, coefficients, weights, kpts, restricted)
    descriptors["dielectric_ipa_diagonal"] = None if dielectric is None else [float(x) for x in dielectric]
    descriptors["dielectric_ipa"] = None if dielectric is None else float(np.mean(dielectric))
    return descriptors


def _restricted(mf: Any) -> bool:  # noqa: ANN401
    return np.asarray(mf.mo_occ[0] if _has_kpoints(mf) else mf.mo_occ).ndim == 1


def _has_kpoints(mf: Any) -> bool:  # noqa: ANN401
    from pyscf.pbc.scf.khf import KSCF

    return isinstance(mf, KSCF)


def _kpoints(mf: Any) -> np.ndarray:  # noqa: ANN401
    """The calculation's k-points (Bohr⁻¹). ``[n_k, 3]``"""
    return np.asarray(mf.kpts).reshape(-1, 3) if _has_kpoints(mf) else np.zeros((1, 3))


def _states(mf: Any) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:  # noqa: ANN401
    """Per (spin, k) channel: energies (eV), occupations, MO coefficients; the k weights and k-points."""
    energies, occupations, coefficients = [], [], []
    kpts = _kpoints(mf)
    n_k = len(kpts)
    if _has_kpoints(mf):
        per_k = [(mf.mo_energy[k], mf.mo_occ[k], mf.mo_coeff[k]) for k in range(n_k)] if _restricted(mf) else None
        if per_k is None:
            per_k = [(mf.mo_energy[s][k], mf.mo_occ[s][k], mf.mo_coeff[s][k]) for s in range(2) for k in range(n_k)]
    else:
        per_k = [(mf.mo_energy, mf.mo_occ, mf.mo_coeff)] if _restricted(mf) else [(mf.mo_energy[s], mf.mo_occ[s], mf.mo_coeff[s]) for s in range(2)]
    for energy, occupation, coefficient in per_k:
        energies.append(np.asarray(energy) * HARTREE_TO_EV)
        occupations.append(np.asarray(occupation))
        coefficients.append(np.asarray(coefficient))
    channel_kpts = np.tile(kpts, (len(per_k) // n_k, 1))  # [n_channels, 3], spin-major like per_k
    return energies, occupations, coefficients, np.full(len(per_k), 1.0 / n_k), channel_kpts


def _state_capacity(restricted: bool) -> float:
    """Electrons one state holds: 2 for a restricted orbital, 1 for a spin-orbital."""
    return 2.0 if restricted else 1.0


def _filled_states(occupations: list[np.ndarray], weights: np.ndarray, restricted: bool) -> float:
    """N = Σ_k w_k Σ_{n,σ} f_nkσ / f_max: the filled states per k-point (module docstring)."""
    return sum(w * o.sum() for o, w in zip(occupations, weights, strict=True)) / _state_capacity(restricted)


def _band_filling(energies: list[np.ndarray], n_states: float, restricted: bool) -> list[int] | None:
    """Valence states of each (spin, k) channel of an insulator (module docstring); None for a partly filled band.

    Channels are spin-major (``_states``): spin σ at k-point k is channel σ n_k + k.
    """
    n_spin = 1 if restricted else 2
    n_k = len(energies) // n_spin
    if abs(n_states - round(n_states)) > 1e-2:
        return None
    n_valence = int(round(n_states))
    filling = [0] * len(energies)
    for k in range(n_k):
        channels = [spin * n_k + k for spin in range(n_spin)]
        merged = np.concatenate([energies[c] for c in channels])
        owner = np.concatenate([np.full(energies[c].size, c) for c in channels])
        lowest = owner[np.argsort(merged, kind="stable")[:n_valence]]
        for c in channels:
            filling[c] = int((lowest == c).sum())
    return filling


def _gap_and_fermi(
    energies: list[np.ndarray], weights: np.ndarray, filling: list[int] | None, n_states: float, restricted: bool
) -> tuple[float, float]:
    """Band gap and Fermi level (eV) from the band filling (module docstring)."""
    if filling is not None:
        bands = [np.sort(e) for e in energies]
        valence = [b[n - 1] for b, n in zip(bands, filling, strict=True) if n > 0]
        conduction = [b[n] for b, n in zip(bands, filling, strict=True) if n < b.size]
        if valence and conduction and min(conduction) - max(valence) >= METAL_GAP_EV:
            return float(min(conduction) - max(valence)), float((min(conduction) + max(valence)) / 2)
    f_max = _state_capacity(restricted)
    states = np.concatenate(energies)
    capacity = np.concatenate([np.full(e.size, w * f_max) for e, w in zip(energies, weights, strict=True)])
    electrons = n_states * f_max
    order = np.argsort(states)
    filled = np.cumsum(capacity[order])
    highest = min(int(np.searchsorted(filled, electrons - 1e-6)), len(order) - 1)
    return 0.0, float(states[order][highest])


def _dos(energies: list[np.ndarray], weights: np.ndarray, fermi: float, n_atoms: int, restricted: bool) -> np.ndarray:
    spin_factor = _state_capacity(restricted)
    grid = DOS_GRID_EV + fermi
    total = np.zeros_like(grid)
    for energy, weight in zip(energies, weights, strict=True):
        gaussians = np.exp(-((grid[:, None] - energy[None, :]) ** 2) / (2 * DOS_SMEARING_EV**2))
        total += weight * spin_factor * gaussians.sum(axis=1) / (DOS_SMEARING_EV * np.sqrt(2 * np.pi))
    return total / n_atoms


def _moments(dos: np.ndarray) -> dict[str, float]:
    weight = dos.sum()
    if weight <= 0:
        return {"dos_mean_ev": 0.0, "dos_std_ev": 0.0, "dos_skewness": 0.0, "dos_kurtosis": 0.0}
    mean = float((DOS_GRID_EV * dos).sum() / weight)
    std = float(np.sqrt(((DOS_GRID_EV - mean) ** 2 * dos).sum() / weight))
    skewness = float(((DOS_GRID_EV - mean) ** 3 * dos).sum() / weight / std**3) if std > 0 else 0.0
    kurtosis = float(((DOS_GRID_EV - mean) ** 4 * dos).sum() / weight / std**4) if std > 0 else 0.0
    return {"dos_mean_ev": mean, "dos_std_ev": std, "dos_skewness": skewness, "dos_kurtosis": kurtosis}


def _elf_statistics(mf: Any) -> dict[str, Any]:  # noqa: ANN401
    """ELF on a uniform grid of ``ELF_GRID_SPACING_BOHR``.

    ρ_σ, ∇ρ_σ and τ_σ are k-averages of each k-point's density matrix evaluated with its
    Bloch AOs (PySCF's meta-GGA density evaluator), so a k-mesh and the equivalent
    supercell at Γ give the same ELF.
    """
    from pyscf.pbc.dft import numint

    cell = mf.cell
    lengths = np.linalg.norm(np.asarray(cell.lattice_vectors()), axis=1)  # Bohr
    mesh = [max(8, int(np.ceil(length / ELF_GRID_SPACING_BOHR))) for length in lengths]
    coords = cell.get_uniform_grids(mesh)  # [n_grid, 3] Bohr
    kpts = _kpoints(mf)
    density = np.asarray(mf.make_rdm1())  # RHF [ao, ao]; UHF [2, ao, ao]; KRHF [k, ao, ao]; KUHF [2, k, ao, ao]
    if not _has_kpoints(mf):
        density = density[..., None, :, :]  # a k axis of length 1
    spins = [density / 2.0, density / 2.0] if density.ndim == 3 else [density[0], density[1]]  # each [k, ao, ao]
    per_spin = [np.zeros((5, len(coords))) for _ in spins]  # rho, ∇rho (3), tau
    # AOs of several k-points from one lattice sum (7x faster than one k-point at a time for
    # MgO on 3x3x3), in chunks of at most _AO_CHUNK_BYTES
    chunk = max(1, int(_AO_CHUNK_BYTES // (4 * len(coords) * cell.nao_nr() * 16)))
    for first in range(0, len(kpts), chunk):
        ao_kpts = numint.eval_ao_kpts(cell, coords, kpts=kpts[first : first + chunk], deriv=1)  # [k, 4, n_grid, n_ao]
        for k, ao in enumerate(ao_kpts, start=first):
            for total, dm in zip(per_spin, spins, strict=True):
                total += np.real(numint.eval_rho(cell, ao, dm[k], xctype="MGGA", hermi=1, with_lapl=False)) / len(kpts)
    d_total = np.zeros(len(coords))
    d_uniform = np.zeros(len(coords))
    rho_total = np.zeros(len(coords))
    for rho, gradient, tau in ((t[0], t[1:4], t[4]) for t in per_spin):
        safe = np.maximum(rho, 1e-12)
        d_total += tau - (gradient**2).sum(axis=0) / (8.0 * safe)
        d_uniform += 0.3 * (6.0 * np.pi**2) ** (2.0 / 3.0) * np.maximum(rho, 0.0) ** (5.0 / 3.0)
        rho_total += rho
    elf = np.where(rho_total > _RHO_FLOOR, 1.0 / (1.0 + (np.maximum(d_total, 0.0) / np.maximum(d_uniform, 1e-30)) ** 2), 0.0)
    histogram, _ = np.histogram(elf, bins=10, range=(0.0, 1.0))
    return {
        "elf_mean": float(elf.mean()),
        "elf_fraction_above_0_7": float((elf > _ELF_THRESHOLD).mean()),
        "elf_histogram": [float(x) for x in histogram / len(elf)],
    }


def _ipa_dielectric(
    cell: Any,  # noqa: ANN401 - pyscf Cell
    energies: list[np.ndarray],
    filling: list[int],
    coefficients: list[np.ndarray],
    weights: np.ndarray,
    kpts: np.ndarray,
    restricted: bool,
) -> np.ndarray:
    """Diagonal of ε∞ in the independent-particle approximation (module docstring); momentum matrices at each channel's k.

    Valence states are the ``filling`` lowest bands of each channel, the rest are conduction states.
    """
    spin_factor = _state_capacity(restricted)
    total = np.zeros(3)
    momenta: dict[bytes, np.ndarray] = {}
    for energy, n_valence, coefficient, weight, kpt in zip(energies, filling, coefficients, weights, kpts, strict=True):
        if kpt.tobytes() not in momenta:  # ⟨μk|∇|νk⟩ = -⟨∇μk|νk⟩ of the Bloch AOs, [3, n_ao, n_ao]
            momenta[kpt.tobytes()] = -np.asarray(cell.pbc_intor("int1e_ipovlp", comp=3, hermi=0, kpts=kpt))
        nabla = momenta[kpt.tobytes()]
        occupied = np.zeros(energy.size, dtype=bool)
        occupied[np.argsort(energy)[:n_valence]] = True
        c_v, c_c = coefficient[:, occupied], coefficient[:, ~occupied]
        omega = (energy[~occupied][:, None] - energy[occupied][None, :]) / HARTREE_TO_EV  # [n_c, n_v] Hartree
        momentum = np.einsum("mc,xmn,nv->xcv", c_c.conj(), nabla, c_v)  # ⟨c|∇|v⟩; |p|² = |∇|²
        total += weight * spin_factor * (2.0 * np.abs(momentum) ** 2 / omega[None] ** 3).sum(axis=(1, 2))
    return 1.0 + 4.0 * np.pi / cell.vol * total
