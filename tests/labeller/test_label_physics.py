"""Physics of real PySCF labels on small cells: regression, periodicity, signs, forces."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import HARTREE_TO_EV, Crystal, Fidelity
from mfdisco.labeller import LabelSettings, label
from mfdisco.labeller.cell import build_cell
from mfdisco.labeller.label import ccsd_t_energy_parts
from mfdisco.labeller.methods import run_mean_field
from mfdisco.labeller.supercells import correlation_supercell


def test_label_reproduces_a_plain_pyscf_script(lih: Crystal, fast_settings: LabelSettings) -> None:
    from pyscf.pbc import dft, gto

    cell = gto.Cell()
    cell.unit = "A"
    cell.a = lih.lattice.tolist()
    cell.atom = [("Li", [0, 0, 0]), ("H", (lih.cart_coords[1]).tolist())]
    cell.basis = "gth-cc-dzvp"
    cell.pseudo = "gth-hf-rev"
    cell.ke_cutoff = 60.0
    cell.verbose = 0
    cell.build()
    mf = dft.RKS(cell, xc="PBE")
    mf.conv_tol = 1e-8
    plain_ha = mf.kernel()

    result = label(lih, "pbe", fast_settings)
    assert result.status == "done" and result.converged
    assert result.energy_ev / HARTREE_TO_EV == pytest.approx(plain_ha, abs=1e-8)
    assert result.energy_per_atom_ev == pytest.approx(result.energy_ev / 2)
    assert result.energy_ev == pytest.approx(plain_ha * 27.21138602, rel=1e-12)  # Hartree -> eV
    assert result.details["basis"] == {"H": ["gth-cc-dzvp", "gth-hf-rev"], "Li": ["gth-cc-dzvp", "gth-hf-rev"]}
    assert result.versions["pyscf"].startswith("2.")


def _supercell_211(crystal: Crystal) -> Crystal:
    structure = crystal.to_pymatgen()
    structure.make_supercell([2, 1, 1])
    return Crystal.from_pymatgen(structure)


@pytest.mark.parametrize(
    ("fidelity", "exxdiv", "tolerance"),
    [
        (Fidelity.CCSD_T, "none", 1e-5),  # Hartree-Fock, the CCSD(T) reference
        (Fidelity.CCSD_T, "ewald", 5e-5),  # PySCF's Madelung term differs by 3e-5 Ha/atom between the two
        (Fidelity.PBE, "ewald", 1e-5),
    ],
    ids=["hartree-fock", "hartree-fock-ewald", "pbe"],
)
def test_supercell_at_gamma_equals_kmesh_of_primitive(lih: Crystal, fast: dict, fidelity: Fidelity, exxdiv: str, tolerance: float) -> None:
    """E/atom of the 2x1x1 supercell at Γ = E/atom of the primitive cell on a (2,1,1) k-mesh (Ha).

    The grids must hold the same plane waves: with even meshes (16 and 32 points along a)
    the half-shifted k-point's frequencies -7.5..7.5 are exactly the supercell's odd ones.
    """
    primitive = LabelSettings(**fast, mesh=(16, 16, 16), kmesh=(2, 1, 1), exxdiv=exxdiv, conv_tol_ha=1e-10)
    supercell = LabelSettings(**fast, mesh=(32, 16, 16), exxdiv=exxdiv, conv_tol_ha=1e-10)
    per_atom = []
    for crystal, settings in ((lih, primitive), (_supercell_211(lih), supercell)):
        cell = build_cell(crystal, fidelity, settings)
        mf = run_mean_field(cell, fidelity, settings, unrestricted=False).mf
        per_atom.append(float(mf.e_tot) / crystal.num_sites)  # e_tot is per cell (k-averaged)
    assert per_atom[0] == pytest.approx(per_atom[1], abs=tolerance)


def test_born_von_karman_kpoints_equal_the_compact_supercell_at_gamma(lih: Crystal, fast: dict) -> None:
    """kpoint_supercell_atoms: HF and HSE06 (with their Madelung terms) and PBE per atom = the supercell's Γ energy (Ha/atom).

    LiH's 4-atom Born-von Kármán cell is the non-diagonal H = [[1,0,0],[0,2,0],[0,1,1]].
    PySCF's own probe-charge term assumes a Monkhorst-Pack mesh and is 0.11 Ha/atom off
    here; the remaining 5e-5 is the FFT grids (21³ against 21×21×29) holding different
    plane waves. HSE06 without its short-range Madelung term is 0.082 Ha/atom off, with
    the full-range one −0.031 (measured). k-point CCSD(T) on such k-points is refused.
    """
    supercell, matrix = correlation_supercell(lih, 4)
    assert np.count_nonzero(matrix - np.diag(np.diag(matrix))) > 0  # a non-diagonal sampling
    sampled = LabelSettings(**fast, kpoint_supercell_atoms=4)
    hf = label(lih, "ccsd_t", sampled.model_copy(update={"correlation_at_gamma": True}))
    hf_supercell = label(supercell, "ccsd_t", LabelSettings(**fast))
    assert hf.status == hf_supercell.status == "done", (hf.error, hf_supercell.error)
    assert hf.details["kpoint_supercell"] == {"matrix": matrix.tolist(), "n_atoms": 4} and hf.details["kmesh"] is None
    assert hf.details["madelung_energy_ev"] < -1.0
    assert hf.details["e_hf_ev"] / 2 / HARTREE_TO_EV == pytest.approx(hf_supercell.details["e_hf_ev"] / 4 / HARTREE_TO_EV, abs=1e-4)
    pbe, pbe_supercell = label(lih, "pbe", sampled), label(supercell, "pbe", LabelSettings(**fast))
    assert pbe.energy_per_atom_ev / HARTREE_TO_EV == pytest.approx(pbe_supercell.energy_per_atom_ev / HARTREE_TO_EV, abs=1e-4)
    hse, hse_supercell = label(lih, "hse06", sampled), label(supercell, "hse06", LabelSettings(**fast))
    assert hse.status == hse_supercell.status == "done", (hse.error, hse_supercell.error)
    assert hse.energy_per_atom_ev / HARTREE_TO_EV == pytest.approx(hse_supercell.energy_per_atom_ev / HARTREE_TO_EV, abs=1e-4)
    assert 0 > hse.details["madelung_energy_ev"] > hf.details["madelung_energy_ev"]  # a quarter of the weaker short-range term
    assert "set correlation_at_gamma" in label(lih, "ccsd_t", sampled).error


def test_kpoint_coupled_cluster_equals_the_supercell_at_gamma(lih: Crystal, fast: dict) -> None:
    """KRCCSD and k-point (T) on a (2,1,1) mesh = RCCSD(T) of the 2x1x1 supercell at Γ, per atom (eV)."""
    primitive = label(lih, "ccsd_t", LabelSettings(**fast, mesh=(16, 16, 16), kmesh=(2, 1, 1), exxdiv="none", conv_tol_ha=1e-10))
    supercell = label(_supercell_211(lih), "ccsd_t", LabelSettings(**fast, mesh=(32, 16, 16), exxdiv="none", conv_tol_ha=1e-10))
    assert primitive.status == supercell.status == "done", (primitive.error, supercell.error)
    assert primitive.details["kmesh"] == [2, 1, 1] and supercell.details["kmesh"] == [1, 1, 1]
    for key, tolerance in (("e_hf_ev", 1e-4), ("e_ccsd_corr_ev", 1e-5), ("e_t_ev", 1e-6)):
        assert primitive.details[key] / 2 == pytest.approx(supercell.details[key] / 4, abs=tolerance), key
    assert primitive.details["e_ccsd_corr_ev"] < 0 and primitive.details["e_t_ev"] < 0


def test_composite_ccsd_t_is_kmesh_hf_plus_gamma_correlation(lih: Crystal, fast: dict) -> None:
    """correlation_at_gamma: E = E_HF on the k-mesh + CCSD and (T) correlation at Γ, each equal to its own run."""
    composite = label(lih, "ccsd_t", LabelSettings(**fast, kmesh=(2, 1, 1), correlation_at_gamma=True))
    gamma = label(lih, "ccsd_t", LabelSettings(**fast))
    kmesh_hf = label(lih, "ccsd_t", LabelSettings(**fast, kmesh=(2, 1, 1)))
    assert composite.status == gamma.status == kmesh_hf.status == "done"
    d = composite.details
    assert d["e_hf_ev"] == pytest.approx(kmesh_hf.details["e_hf_ev"], abs=1e-6)
    assert d["e_hf_gamma_ev"] == pytest.approx(gamma.details["e_hf_ev"], abs=1e-6)
    assert d["e_ccsd_corr_ev"] == pytest.approx(gamma.details["e_ccsd_corr_ev"], abs=1e-6)
    assert composite.energy_ev == pytest.approx(d["e_hf_ev"] + d["e_ccsd_corr_ev"] + d["e_t_ev"], abs=1e-9)
    assert abs(d["e_hf_ev"] - d["e_hf_gamma_ev"]) > 0.1  # the k-mesh moves the HF energy of this small cell
    # the composite serves open-shell cells too: UHF on the k-mesh, UCCSD(T) at Γ
    atom = Crystal.from_species(np.eye(3) * 5.0, ["Li"], [[0.0, 0.0, 0.0]])
    open_shell = label(atom, "ccsd_t", LabelSettings(**fast, kmesh=(2, 1, 1), correlation_at_gamma=True))
    assert open_shell.status == "done", open_shell.error
    assert open_shell.details["e_ccsd_corr_ev"] < 0 and open_shell.magnetic_moment == pytest.approx(1.0)


def test_composite_correlation_in_a_supercell_equals_that_supercell_at_gamma(lih: Crystal, fast: dict) -> None:
    """correlation_supercell_atoms = 4: the 2-atom cell's Γ correlation per atom is that of its 4-atom supercell.

    The supercell is the tetragonal (a/√2, a/√2, a) cell, the cell of the (001)-ordered
    rocksalts; labelled on its own at Γ it gives the same correlation per atom (eV), and
    a different one from the 2-atom cell's (the finite-size error the option removes
    from comparisons between the two cell sizes).
    """
    from tests.labeller.conftest import LIH_A

    settings = LabelSettings(**fast, correlation_at_gamma=True, correlation_supercell_atoms=4)  # at Γ the supercell is used too
    composite = label(lih, "ccsd_t", settings)
    a = LIH_A
    tetragonal = Crystal.from_species([[a / 2, a / 2, 0], [a / 2, -a / 2, 0], [0, 0, a]], ["Li", "Li", "H", "H"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0, 0, 0.5]])
    explicit = label(tetragonal, "ccsd_t", LabelSettings(**fast))
    own_cell = label(lih, "ccsd_t", LabelSettings(**fast))
    assert composite.status == explicit.status == own_cell.status == "done", (composite.error, explicit.error)
    d = composite.details
    assert d["correlation_supercell"]["n_atoms"] == 4
    for key in ("e_ccsd_corr_ev", "e_t_ev"):
        assert d[key] / 2 == pytest.approx(explicit.details[key] / 4, abs=1e-5), key
    assert d["e_hf_gamma_ev"] / 2 == pytest.approx(explicit.details["e_hf_ev"] / 4, abs=1e-5)
    assert abs(d["e_ccsd_corr_ev"] - own_cell.details["e_ccsd_corr_ev"]) / 2 > 0.01
    assert composite.energy_ev == pytest.approx(d["e_hf_ev"] + d["e_ccsd_corr_ev"] + d["e_t_ev"], abs=1e-9)


def test_kpoint_descriptors_equal_the_supercell_at_gamma(lih: Crystal, fast: dict) -> None:
    """Gap, DOS per atom, ELF and ε∞ of the primitive cell on a (2,1,1) mesh = those of the 2x1x1 supercell at Γ."""
    primitive = label(lih, "pbe", LabelSettings(**fast, mesh=(16, 16, 16), kmesh=(2, 1, 1), conv_tol_ha=1e-10)).descriptors
    supercell = label(_supercell_211(lih), "pbe", LabelSettings(**fast, mesh=(32, 16, 16), conv_tol_ha=1e-10)).descriptors
    assert primitive["band_gap_ev"] == pytest.approx(supercell["band_gap_ev"], abs=1e-5)
    assert np.allclose(primitive["dos_states_per_ev_atom"], supercell["dos_states_per_ev_atom"], atol=1e-4)
    assert primitive["dielectric_ipa"] == pytest.approx(supercell["dielectric_ipa"], abs=1e-5)
    # the ELF grids differ (about 0.15 Å in each cell), so its statistics agree to the sampling
    assert primitive["elf_mean"] == pytest.approx(supercell["elf_mean"], abs=1e-3)
    assert primitive["elf_fraction_above_0_7"] == pytest.approx(supercell["elf_fraction_above_0_7"], abs=0.01)


def test_coupled_cluster_correlation_is_negative_for_an_insulator(lih: Crystal, fast_settings: LabelSettings) -> None:
    result = label(lih, "ccsd_t", fast_settings)
    assert result.status == "done", result.error
    details = result.details
    assert details["e_ccsd_corr_ev"] < 0 and details["e_t_ev"] < 0
    assert abs(details["e_t_ev"]) < abs(details["e_ccsd_corr_ev"])
    assert result.energy_ev == pytest.approx(details["e_hf_ev"] + details["e_ccsd_corr_ev"] + details["e_t_ev"])
    assert result.forces_ev_per_a is None  # PySCF has no periodic CCSD(T) gradients
    hf, correlation = ccsd_t_energy_parts(result, lih.num_sites)
    assert correlation < 0 and (hf + correlation) * lih.num_sites == pytest.approx(result.energy_ev)
    with pytest.raises(ValueError, match="done CCSD.T. label"):
        ccsd_t_energy_parts(label(lih, "pbe", fast_settings), lih.num_sites)


def test_open_shell_coupled_cluster_runs_unrestricted(fast_settings: LabelSettings) -> None:
    """A Li atom in a box (3 electrons with gth-hf-rev): UHF reference, UCCSD(T), doublet."""
    atom = Crystal.from_species(np.eye(3) * 5.0, ["Li"], [[0.0, 0.0, 0.0]])
    result = label(atom, "ccsd_t", fast_settings)
    assert result.status == "done", result.error
    assert result.magnetic_moment == pytest.approx(1.0, abs=1e-6)
    assert result.details["e_ccsd_corr_ev"] < 0 and result.details["e_t_ev"] <= 0


def test_translation_of_all_atoms(lih: Crystal, fast: dict) -> None:
    settings = LabelSettings(**{**fast, "density_fit": "gdf"})
    reference = label(lih, "pbe", settings).energy_ev
    by_lattice_vector = Crystal(lih.lattice, lih.frac_coords + [1.0, -2.0, 0.0], lih.atomic_numbers)
    assert label(by_lattice_vector, "pbe", settings).energy_ev == pytest.approx(reference, abs=1e-9)
    # A fractional shift moves the atoms against the real-space grid: the "egg-box" error of the
    # XC integration, 4e-5 Ha here at 60 Ha cutoff (3e-4 Ha with FFT density fitting).
    shifted = Crystal(lih.lattice, lih.frac_coords + [0.13, 0.27, 0.41], lih.atomic_numbers)
    assert abs(label(shifted, "pbe", settings).energy_ev - reference) / HARTREE_TO_EV < 1e-4


def test_left_handed_lattice_gives_the_same_energy(lih: Crystal, fast: dict) -> None:
    """Swapping two lattice vectors (det < 0) describes the same crystal: same PBE energy."""
    settings = LabelSettings(**{**fast, "density_fit": "gdf"})
    swapped = Crystal(lih.lattice[[1, 0, 2]], lih.frac_coords[:, [1, 0, 2]], lih.atomic_numbers)
    assert np.linalg.det(swapped.lattice) < 0
    reference = label(lih, "pbe", settings)
    mirrored = label(swapped, "pbe", settings)
    assert mirrored.status == "done", mirrored.error
    assert mirrored.energy_ev == pytest.approx(reference.energy_ev, abs=1e-6)


def test_pbe_forces_equal_central_finite_differences(lih: Crystal, fast: dict) -> None:
    settings = LabelSettings(**fast, multigrid=True)
    base = lih.cart_coords.copy()

    def displaced(dx: float) -> Crystal:
        cart = base.copy()
        cart[1, 0] += dx
        return Crystal.from_species(lih.lattice, lih.species, cart @ np.linalg.inv(lih.lattice))

    result = label(displaced(0.1), "pbe", settings)
    assert result.forces_ev_per_a is not None, result.details.get("forces")
    step = 0.005
    plus = label(displaced(0.1 + step), "pbe", settings).energy_ev
    minus = label(displaced(0.1 - step), "pbe", settings).energy_ev
    finite_difference = -(plus - minus) / (2 * step)
    assert abs(result.forces_ev_per_a[1][0]) > 0.1  # the displaced H feels a real force
    assert result.forces_ev_per_a[1][0] == pytest.approx(finite_difference, abs=1e-3)


def test_pbe_label_carries_quantum_descriptors(lih: Crystal, fast_settings: LabelSettings) -> None:
    from mfdisco.labeller.descriptors import DOS_GRID_EV, DOS_SMEARING_EV

    result = label(lih, "pbe", fast_settings)
    q = result.descriptors
    assert q is not None and not q["metallic"] and q["band_gap_ev"] > 1.0  # LiH: ionic insulator
    assert q["dos_at_fermi"] < 1e-6  # nothing at mid-gap
    dos = np.array(q["dos_states_per_ev_atom"])
    assert len(dos) == len(DOS_GRID_EV) and np.all(dos >= 0)
    # Occupied states in the window: H 1s-Li 2s valence band, 2 electrons per 2 atoms (Li 1s lies below -20 eV).
    occupied = dos[DOS_GRID_EV < 0].sum() * 0.1
    assert occupied == pytest.approx(1.0, abs=0.02 + DOS_SMEARING_EV / 10)
    assert 0.0 <= q["elf_mean"] <= 1.0 and q["elf_fraction_above_0_7"] > 0.3  # H- keeps its pair localised
    assert sum(q["elf_histogram"]) == pytest.approx(1.0)
    assert q["dielectric_ipa"] > 1.0 and len(q["dielectric_ipa_diagonal"]) == 3
    assert np.allclose(q["dielectric_ipa_diagonal"], q["dielectric_ipa"], rtol=1e-6)  # cubic: isotropic
    assert label(lih, "scan", fast_settings).descriptors is None  # from the PBE run only


def test_smeared_insulator_keeps_its_gap(lih: Crystal, fast: dict) -> None:
    """Broad Fermi smearing puts weight on LiH's conduction band; the gap comes from the band filling, not the occupations."""
    plain = label(lih, "pbe", LabelSettings(**fast, kmesh=(2, 2, 2))).descriptors
    smeared = label(lih, "pbe", LabelSettings(**fast, kmesh=(2, 2, 2), smearing_ha=0.05)).descriptors
    assert not smeared["metallic"] and not plain["metallic"]
    # 0.05 Ha = 1.4 eV smearing moves a little density into the conduction band: the gap moves by far less than itself
    assert smeared["band_gap_ev"] == pytest.approx(plain["band_gap_ev"], rel=0.1)
    assert smeared["dos_at_fermi"] < 1e-3 and smeared["dielectric_ipa"] > 1.0


def test_smeared_open_shell_atom_keeps_its_spin_gap(fast: dict) -> None:
    """A Li atom in a box, unrestricted with Fermi smearing: a little β 2s occupation, but 2 α + 1 β states are filled."""
    atom = Crystal.from_species(np.eye(3) * 5.0, ["Li"], [[0.0, 0.0, 0.0]])
    result = label(atom, "pbe", LabelSettings(**fast, smearing_ha=0.01))
    assert result.status == "done", result.error
    q = result.descriptors
    assert not q["metallic"] and q["band_gap_ev"] > 0.1  # α 2s below β 2s: the exchange splitting
    assert q["dielectric_ipa"] > 1.0


def test_smeared_metal_has_no_gap(fast: dict) -> None:
    """bcc Li, one atom (three electrons with gth-hf-rev), 3x3x3 mesh, Fermi smearing: the 2s band is half filled."""
    lattice = 0.5 * 3.49 * np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]])  # Å, bcc primitive
    lithium = Crystal.from_species(lattice, ["Li"], [[0, 0, 0]])
    result = label(lithium, "pbe", LabelSettings(**fast, kmesh=(3, 3, 3), smearing_ha=0.01, spin="restricted"))
    assert result.status == "done", result.error
    q = result.descriptors
    assert q["metallic"] and q["band_gap_ev"] == 0.0 and q["dielectric_ipa"] is None
    assert q["dos_at_fermi"] > 0.1  # states per eV per atom at E_F


def test_kpoint_triples_leave_no_file_and_ignore_a_stale_one(lih: Crystal, fast: dict, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PySCF's k-point (T) reuses any complete tmp_t3_eris.h5 in the working folder; mfdisco's runs in a folder of its own."""
    monkeypatch.chdir(tmp_path)
    settings = LabelSettings(**fast, kmesh=(2, 1, 1))
    first = label(lih, "ccsd_t", settings)
    assert first.status == "done" and not list(tmp_path.iterdir())
    import h5py

    with h5py.File(tmp_path / "tmp_t3_eris.h5", "w") as stale:  # what another calculation would have left
        stale["t2T"] = np.zeros((2, 2, 2, 1, 1, 1, 1))
    squeezed = label(Crystal(lih.lattice * 0.97, lih.frac_coords, lih.atomic_numbers), "ccsd_t", settings)
    again = label(lih, "ccsd_t", settings)
    assert squeezed.status == again.status == "done"
    assert again.details["e_t_ev"] == pytest.approx(first.details["e_t_ev"], abs=1e-9)
    assert squeezed.details["e_t_ev"] != pytest.approx(first.details["e_t_ev"], abs=1e-6)
