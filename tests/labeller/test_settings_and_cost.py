"""Settings, basis resolution, spin state and cost estimates (no SCF)."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.core import Crystal, Fidelity
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller import (
    LabelSettings,
    UnsupportedElementError,
    estimate_cost,
    limit_problem,
    resolve_basis,
    settings_hash,
)
from mfdisco.labeller.cell import build_cell, spin_state
from mfdisco.labeller.cost import frozen_orbitals


@pytest.fixture(scope="module")
def prototypes() -> dict:
    return {r.source_id: r.crystal for r in builtin_prototypes(["Mg", "Sr", "Ti", "Mn", "Zn", "O"])}


def test_hash_ignores_resources_but_not_physics() -> None:
    base = settings_hash("pbe", LabelSettings())
    assert settings_hash("pbe", LabelSettings(threads=2, timeout_s=5, max_memory_mb=100)) == base
    assert settings_hash("pbe", LabelSettings(ke_cutoff_ha=120)) != base
    assert settings_hash("scan", LabelSettings()) != base


def test_invalid_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="ke_cutoff_ha"):
        LabelSettings(ke_cutoff_ha=-1)
    with pytest.raises(ValueError, match="density_fit"):
        LabelSettings(density_fit="magic")


def test_basis_resolution_per_fidelity() -> None:
    hf = resolve_basis(Fidelity.CCSD_T, LabelSettings(), ["Mg", "O", "Ti"])
    assert hf == {"Mg": ("gth-dzvp-molopt-sr", "gth-hf-rev"), "O": ("gth-cc-dzvp", "gth-hf-rev"), "Ti": ("gth-dzvp-molopt-sr", "gth-hf-rev")}
    assert resolve_basis(Fidelity.PBE, LabelSettings(), ["Zn"]) == {"Zn": ("gth-dzvp-molopt-sr", "gth-pbe")}


def test_elements_without_a_basis_are_refused_with_the_reason() -> None:
    with pytest.raises(UnsupportedElementError, match="Zn: .*made for 12 valence electrons, gth-hf-rev keeps 20"):
        resolve_basis(Fidelity.CCSD_T, LabelSettings(), ["Zn", "O"])
    with pytest.raises(UnsupportedElementError, match="gth-dzvp has no Ca"):
        resolve_basis(Fidelity.PBE, LabelSettings(basis="gth-dzvp", pseudo="gth-pade"), ["Ca"])


def test_spin_state(prototypes: dict) -> None:
    settings = LabelSettings()
    mgo = spin_state(prototypes["rocksalt:MgO"], settings, 16)
    assert not mgo.unrestricted and mgo.two_s == 0
    mno = spin_state(prototypes["rocksalt:MnO"], settings, 21)
    assert mno.unrestricted and mno.two_s == 5  # high-spin Mn2+, d5
    assert spin_state(prototypes["rocksalt:MnO"], LabelSettings(spin="restricted"), 21).two_s == 1  # odd electrons


def test_frozen_core_counts_semicore_orbitals(prototypes: dict) -> None:
    mgo = prototypes["rocksalt:MgO"]
    cell = build_cell(mgo, Fidelity.CCSD_T, LabelSettings())
    assert frozen_orbitals(mgo, cell) == 4  # Mg 2s2p kept by the q10 pseudopotential; O none
    sto = prototypes["perovskite:SrTiO3"]
    assert frozen_orbitals(sto, build_cell(sto, Fidelity.CCSD_T, LabelSettings())) == 8  # Sr 4s4p + Ti 3s3p


def test_cost_estimate_and_limits(prototypes: dict) -> None:
    sto = prototypes["perovskite:SrTiO3"]
    small = estimate_cost(sto, Fidelity.PBE, LabelSettings())
    cc = estimate_cost(sto, Fidelity.CCSD_T, LabelSettings())
    assert small.n_electrons == 10 + 12 + 3 * 6 and small.n_occupied == 20
    assert cc.memory_mb > small.memory_mb
    assert limit_problem(cc, LabelSettings()) is None
    assert "max_orbitals" in limit_problem(cc, LabelSettings(max_orbitals=50))
    assert "max_memory_mb" in limit_problem(cc, LabelSettings(max_memory_mb=10))


def test_reference_crystals_and_settings() -> None:
    from mfdisco.labeller.references import reference_crystal, reference_settings

    assert reference_crystal("Mg").num_sites == 2  # hcp
    assert reference_crystal("Fe").num_sites == 1  # bcc
    assert reference_crystal("Mn").num_sites == 1  # bcc in place of alpha-Mn
    o2 = reference_crystal("O")
    assert o2.reduced_formula == "O2"
    triplet = reference_settings("O", LabelSettings())
    assert spin_state(o2, triplet, 12).two_s == 2 and spin_state(o2, LabelSettings(), 12).two_s == 0
    assert reference_settings("Mg", LabelSettings()) == LabelSettings()


def test_kspacing_gives_every_cell_the_same_k_point_density(prototypes: dict) -> None:
    from mfdisco.labeller.cell import kmesh_for

    settings = LabelSettings(kspacing=0.9)
    mgo = prototypes["rocksalt:MgO"]  # fcc primitive, a = 4.2 Å: |b| = 2π√3/a ≈ 2.6 Å⁻¹
    assert kmesh_for(mgo.lattice, settings) == (3, 3, 3)
    doubled = mgo.to_pymatgen()
    doubled.make_supercell([2, 1, 1])
    assert kmesh_for(doubled.lattice.matrix, settings) == (2, 3, 3)  # half the reciprocal length along a
    hcp = prototypes["hcp:Mg"]  # c > a: fewer points along c
    mesh = kmesh_for(hcp.lattice, settings)
    assert mesh[0] == mesh[1] and mesh[2] < mesh[0]
    assert kmesh_for(np.eye(3) * 30.0, settings) == (1, 1, 1)  # a molecule in a box stays at Γ
    assert kmesh_for(mgo.lattice, LabelSettings(kmesh=(2, 1, 1))) == (2, 1, 1)
    assert kmesh_for(np.eye(3) * (2 * np.pi / 0.9), settings) == (1, 1, 1)  # an exact multiple does not round up
    # one settings hash for every structure; the Γ default's hash is the one labels were stored with before kspacing
    assert settings_hash("pbe", settings) != settings_hash("pbe", LabelSettings())
    assert "kspacing" not in LabelSettings().physics() and LabelSettings(kspacing=0.9).physics()["kspacing"] == 0.9
    with pytest.raises(ValueError, match="kmesh .* or kspacing"):
        LabelSettings(kmesh=(2, 2, 2), kspacing=0.5)
    with pytest.raises(ValueError, match="kspacing"):
        LabelSettings(kspacing=0)


def test_kpoint_supercell_atoms_excludes_meshes_and_enters_the_hash_only_when_set() -> None:
    assert "kpoint_supercell_atoms" not in LabelSettings().physics()
    assert LabelSettings(kpoint_supercell_atoms=32).physics()["kpoint_supercell_atoms"] == 32
    with pytest.raises(ValueError, match="kpoint_supercell_atoms 32 sets the k-points itself"):
        LabelSettings(kpoint_supercell_atoms=32, kspacing=0.9)
    with pytest.raises(ValueError, match="kpoint_supercell_atoms 8 sets the k-points itself"):
        LabelSettings(kpoint_supercell_atoms=8, kmesh=(2, 2, 2))
    with pytest.raises(ValueError, match="kpoint_supercell_atoms"):
        LabelSettings(kpoint_supercell_atoms=1)
    with pytest.raises(ValueError, match=">= 1"):
        LabelSettings(kmesh=(0, 1, 1))


def test_pool_labels_keep_their_settings_hash() -> None:
    """The committed pool's hashes are reproduced from its stored settings (new fields must not move old hashes)."""
    from mfdisco.active_loop.config import DEFAULT_POOL_FILE
    from mfdisco.labeller.pool_file import read_pool_file

    entries = read_pool_file(DEFAULT_POOL_FILE)
    assert entries
    for entry in entries:
        stored = LabelSettings(**entry.label.settings)
        assert settings_hash(entry.label.fidelity, stored) == entry.label.settings_hash, entry.name


def test_kpoint_cost_counts_k_point_triples(prototypes: dict) -> None:
    mgo = prototypes["rocksalt:MgO"]
    gamma = estimate_cost(mgo, Fidelity.CCSD_T, LabelSettings())
    mesh = estimate_cost(mgo, Fidelity.CCSD_T, LabelSettings(kmesh=(2, 2, 2)))
    assert (gamma.n_kpts, mesh.n_kpts) == (1, 8) and mesh.n_orbitals == 8 * gamma.n_ao  # coupled cluster couples the k-mesh
    dft = estimate_cost(mgo, Fidelity.PBE, LabelSettings(kspacing=0.9))
    assert dft.n_kpts == 27 and dft.n_orbitals == dft.n_ao and limit_problem(dft, LabelSettings()) is None  # k-blocks apart
    composite = estimate_cost(mgo, Fidelity.CCSD_T, LabelSettings(kmesh=(2, 2, 2), correlation_at_gamma=True))
    assert composite.n_orbitals == gamma.n_ao and composite.memory_mb < mesh.memory_mb / 10
    assert mesh.memory_mb > 8**3 * gamma.memory_mb / 10  # amplitudes and integrals grow with N_k³
    in_supercell = estimate_cost(mgo, Fidelity.CCSD_T, LabelSettings(kmesh=(2, 2, 2), correlation_at_gamma=True, correlation_supercell_atoms=4))
    assert in_supercell.n_orbitals == 2 * gamma.n_ao and in_supercell.memory_mb > 2 * composite.memory_mb  # o²v², v⁴ of twice the orbitals


def test_correlation_supercell_needs_the_composite_and_enters_the_hash() -> None:
    with pytest.raises(ValueError, match="correlation_supercell_atoms 4 needs correlation_at_gamma"):
        LabelSettings(correlation_supercell_atoms=4)
    with pytest.raises(ValueError, match="correlation_supercell_atoms"):
        LabelSettings(correlation_at_gamma=True, correlation_supercell_atoms=1)
    composite = LabelSettings(kspacing=0.9, correlation_at_gamma=True)
    assert "correlation_supercell_atoms" not in composite.physics()  # hashes of labels made before it stay valid
    in_supercell = composite.model_copy(update={"correlation_supercell_atoms": 4})
    assert settings_hash(Fidelity.CCSD_T, in_supercell) != settings_hash(Fidelity.CCSD_T, composite)
