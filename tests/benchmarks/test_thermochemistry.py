"""The pool's thermochemistry table: formation energies, hull distances, PBE wrong calls, experiment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.labeller.pool_file import PoolEntry
from tests.benchmarks import load_script


def _module():  # noqa: ANN202
    return load_script("pool/thermochemistry.py")


def _entry(name: str, species: list[str], fidelity: Fidelity, energy_per_atom: float, status: str = "done") -> PoolEntry:
    n = len(species)
    crystal = Crystal.from_species(np.eye(3) * 3.0 * n ** (1 / 3), species, [[i / n, 0.0, 0.0] for i in range(n)])
    label = Label(fidelity, {}, "h", status, energy_ev=energy_per_atom * n, energy_per_atom_ev=energy_per_atom)
    return PoolEntry(name, crystal, False, label)


def _pool() -> list[PoolEntry]:
    """Mg at −1, O at −5 eV/atom at both fidelities; MgO at −3.5 (PBE) and −4.0 (CCSD(T))."""
    entries = []
    for fidelity, mgo, other in ((Fidelity.PBE, -3.5, -3.35), (Fidelity.CCSD_T, -4.0, -3.95)):
        entries += [
            _entry("fcc:Mg", ["Mg"], fidelity, -1.0),
            _entry("molecular:O2", ["O", "O"], fidelity, -5.0),
            _entry("rocksalt:MgO", ["Mg", "O"], fidelity, mgo),
            _entry("perturbed0:rocksalt:MgO", ["Mg", "O"], fidelity, other),
        ]
    entries.append(_entry("zincblende:MgO", ["Mg", "O"], Fidelity.PBE, -2.0, status="failed"))
    return entries


def test_formation_energies_and_hull_distances_per_fidelity() -> None:
    rows = {r.name: r for r in _module().compound_rows(_pool())}
    assert set(rows) == {"rocksalt:MgO", "perturbed0:rocksalt:MgO"}  # elements and failed labels are not rows
    ground = rows["rocksalt:MgO"]
    assert ground.formation[Fidelity.PBE] == pytest.approx(-3.5 - (-1.0 - 5.0) / 2)
    assert ground.formation[Fidelity.CCSD_T] == pytest.approx(-4.0 + 3.0)
    assert ground.above_hull == {Fidelity.PBE: pytest.approx(0.0), Fidelity.CCSD_T: pytest.approx(0.0)}
    variant = rows["perturbed0:rocksalt:MgO"]
    assert variant.above_hull[Fidelity.PBE] == pytest.approx(0.15)
    assert variant.above_hull[Fidelity.CCSD_T] == pytest.approx(0.05)
    assert variant.pbe_call == "PBE misses"  # within 0.1 of the CCSD(T) hull, not of PBE's
    assert ground.pbe_call == ""


def test_experiment_is_per_atom_and_scored_only_where_tabulated() -> None:
    module = _module()
    rows = module.compound_rows(_pool())
    ground = next(r for r in rows if r.name == "rocksalt:MgO")
    assert ground.experiment == pytest.approx(-601.6 / 96.485332 / 2, abs=1e-6)  # ≈ −3.12 eV/atom
    assert next(r for r in rows if r.name.startswith("perturbed")).experiment is None
    mae, count = module.mean_absolute_error_to_experiment(rows, Fidelity.CCSD_T)
    assert count == 1 and mae == pytest.approx(abs(-1.0 - ground.experiment))
    assert math.isnan(module.mean_absolute_error_to_experiment(rows, Fidelity.HSE06)[0])


def _with_parts(entry: PoolEntry, hf_per_atom: float) -> PoolEntry:
    """A CCSD(T) label whose details split its energy into HF and CCSD + (T) correlation (per cell)."""
    n = entry.crystal.num_sites
    correlation = entry.label.energy_ev - hf_per_atom * n
    details = {"e_hf_ev": hf_per_atom * n, "e_ccsd_corr_ev": 0.75 * correlation, "e_t_ev": 0.25 * correlation}
    return PoolEntry(entry.name, entry.crystal, entry.subset, Label(**{**entry.label.__dict__, "details": details}))


def test_polymorphs_split_the_ccsd_t_difference_into_hf_and_correlation() -> None:
    module = _module()
    entries = [e for e in _pool() if e.label.status == "done"]
    entries += [_entry("cesium-chloride:MgO", ["Mg", "O"], Fidelity.PBE, -3.0), _entry("cesium-chloride:MgO", ["Mg", "O"], Fidelity.CCSD_T, -3.7)]
    hf = {"rocksalt:MgO": -3.2, "cesium-chloride:MgO": -3.1, "perturbed0:rocksalt:MgO": -3.0}
    entries = [_with_parts(e, hf[e.name]) if e.label.fidelity == Fidelity.CCSD_T and e.name in hf else e for e in entries]
    (row,) = module.polymorph_rows(entries)  # the perturbed variant is not a polymorph; Mg and O2 are elements
    assert (row.name, row.ground) == ("cesium-chloride:MgO", "rocksalt:MgO")
    assert row.above_ground[Fidelity.PBE] == pytest.approx(0.5)
    assert row.above_ground[Fidelity.CCSD_T] == pytest.approx(0.3)
    assert row.hf_part == pytest.approx(0.1) and row.correlation_part == pytest.approx(0.2)
    assert module.polymorph_rows([e for e in entries if e.name != "rocksalt:MgO"]) == []  # one prototype left: no polymorph


def test_compounds_are_compared_with_the_two_binaries_of_their_composition() -> None:
    """MgCaO2 (4 atoms) against rocksalt MgO + CaO: ΔE = E/atom − ½E(MgO)/atom − ½E(CaO)/atom, per fidelity."""
    module = _module()
    entries = [e for e in _pool() if e.label.status == "done"]
    for fidelity, cao, ternary in ((Fidelity.PBE, -3.0, -3.1), (Fidelity.CCSD_T, -3.6, -3.7), (Fidelity.SCAN, -3.3, -3.0)):
        entries += [_entry("rocksalt:CaO", ["Ca", "O"], fidelity, cao), _entry("ordered-rocksalt:MgCaO2", ["Mg", "Ca", "O", "O"], fidelity, ternary)]
    entries.append(_entry("cesium-chloride:CaO", ["Ca", "O"], Fidelity.PBE, -2.0))  # no CCSD(T): not a candidate binary
    hf = {"rocksalt:MgO": -3.2, "rocksalt:CaO": -3.0, "ordered-rocksalt:MgCaO2": -3.0, "perturbed0:rocksalt:MgO": -3.0}
    entries = [_with_parts(e, hf[e.name]) if e.label.fidelity == Fidelity.CCSD_T and e.name in hf else e for e in entries]
    (row,) = module.binary_reaction_rows(entries)  # binaries are not rows; the perturbed MgO is not a candidate
    assert row.name == "ordered-rocksalt:MgCaO2" and set(row.binaries) == {"rocksalt:MgO", "rocksalt:CaO"}
    assert row.energy[Fidelity.PBE] == pytest.approx(-3.1 - 0.5 * (-3.5 - 3.0))
    assert row.energy[Fidelity.CCSD_T] == pytest.approx(-3.7 - 0.5 * (-4.0 - 3.6))
    assert Fidelity.SCAN not in row.energy  # MgO has no SCAN label
    assert row.hf_part == pytest.approx(-3.0 - 0.5 * (-3.2 - 3.0))
    assert row.hf_part + row.correlation_part == pytest.approx(row.energy[Fidelity.CCSD_T])
    assert module.binary_reaction_rows([e for e in entries if e.name != "rocksalt:CaO"]) == []  # no pair gives MgCaO2
