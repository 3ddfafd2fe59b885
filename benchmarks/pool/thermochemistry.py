"""Formation energies and hull distances of the pool's compounds at each fidelity, against experiment.

    python benchmarks/pool/thermochemistry.py [--preset kpoint] [--pool FILE]

For one settings family (``--preset``) of the committed pool file, every compound gets,
at every fidelity it is labelled at, its formation energy ΔE_f and its energy above the
convex hull built from everything labelled at that fidelity plus the elemental references
(:func:`mfdisco.active_loop.hull.hull_distances`, the campaign's own hull). A compound is a
*PBE wrong call* when PBE and CCSD(T) disagree on the discovery criterion
E_hull ≤ 0.1 eV/atom: ``PBE misses`` (CCSD(T) within, PBE not) or ``PBE false`` (the
reverse). Where an experimental standard enthalpy of formation is known for the member's
own prototype, it is printed beside, with the mean absolute error of each fidelity over
those compounds.

Experiment: ΔfH°(298.15 K) of the solids (CRC Handbook of Chemistry and Physics),
converted to eV/atom. They are enthalpies at room temperature; the labels are electronic
energies at 0 K without zero-point energy, a difference of order 0.01-0.05 eV/atom for
these oxides, so agreement better than that is not meaningful. The pool's perovskites are
cubic (CaTiO₃ is orthorhombic in nature, some 0.05 eV/atom lower).

Polymorphs (prototypes of one formula, perturbed variants left out) get a second table:
each one's energy above the formula's lowest CCSD(T) prototype, ΔE = E/N − E_ground/N, at
PBE and at CCSD(T), and the CCSD(T) difference split into its Hartree-Fock part (on the
k-mesh where the preset has one) and its CCSD + (T) correlation part (at Γ, in the cell
or supercell the preset correlates), read from the labels' details. Where PBE and CCSD(T)
disagree, the split says whether the mean-field or the Γ correlation carries it.

Compounds of three or more elements get a third table: their energy against the two
binaries of their composition (AB O₂ against AO + BO, ATiO₃ against AO + TiO₂), ΔE at
every fidelity all three are labelled at, split the same way. No elemental reference
enters it, so the metal references' k-point error (the largest in PBE's ΔE_f) does not
either: it is the cleanest comparison of PBE with CCSD(T) the pool has.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mfdisco.active_loop.config import DEFAULT_POOL_FILE, CampaignConfig
from mfdisco.active_loop.hull import HullEntry, hull_distances
from mfdisco.core import Fidelity
from mfdisco.labeller.label import ccsd_t_energy_parts
from mfdisco.labeller.pool_file import PoolEntry, entries_at, read_pool_file
from mfdisco.labeller.presets import PRESETS, preset_settings

#: Discovery criterion of the campaign: E_hull(ccsd_t) ≤ this (eV/atom), the campaign's default.
HULL_WINDOW_EV: float = CampaignConfig.model_fields["hit_threshold_ev_per_atom"].default
#: kJ/mol → eV per formula unit.
KJ_PER_MOL_IN_EV = 1.0 / 96.485332
#: ΔfH°(298.15 K) of pool members in their own prototype (kJ/mol of formula unit).
EXPERIMENT_KJ_PER_MOL: dict[str, float] = {
    "rocksalt:MgO": -601.6,
    "rocksalt:CaO": -634.9,
    "rocksalt:SrO": -592.0,
    "rocksalt:BaO": -548.0,
    "rutile:TiO2": -944.0,
    "perovskite:CaTiO3": -1660.6,
    "perovskite:SrTiO3": -1672.4,
    "perovskite:BaTiO3": -1659.8,
}


def experimental_formation_energy(name: str, atoms_per_formula_unit: int) -> float | None:
    """Experimental ΔfH° of a member in eV/atom, or None when not tabulated."""
    value = EXPERIMENT_KJ_PER_MOL.get(name)
    return None if value is None else value * KJ_PER_MOL_IN_EV / atoms_per_formula_unit


@dataclass
class CompoundRow:
    """One compound: ΔE_f and E_hull (eV/atom) per fidelity it is labelled at."""

    name: str
    formula: str
    formation: dict[Fidelity, float] = field(default_factory=dict)
    above_hull: dict[Fidelity, float] = field(default_factory=dict)
    experiment: float | None = None

    @property
    def pbe_call(self) -> str:
        """``PBE misses`` / ``PBE false`` when PBE and CCSD(T) disagree on E_hull ≤ 0.1 eV/atom, else ''."""
        if Fidelity.PBE not in self.above_hull or Fidelity.CCSD_T not in self.above_hull:
            return ""
        pbe_within = self.above_hull[Fidelity.PBE] <= HULL_WINDOW_EV
        ccsd_t_within = self.above_hull[Fidelity.CCSD_T] <= HULL_WINDOW_EV
        if ccsd_t_within and not pbe_within:
            return "PBE misses"
        if pbe_within and not ccsd_t_within:
            return "PBE false"
        return ""


def compound_rows(entries: list[PoolEntry]) -> list[CompoundRow]:
    """ΔE_f and E_hull of every compound of ``entries`` (one settings family) at each fidelity.

    Only ``done`` labels count. A compound whose elements lack a reference at a fidelity
    gets no value there (the hull module logs it).
    """
    done = [e for e in entries if e.label.status == "done"]
    rows: dict[str, CompoundRow] = {}
    for fidelity in Fidelity:
        at_fidelity = {i: e for i, e in enumerate(done) if e.label.fidelity == fidelity}
        if not at_fidelity:
            continue
        results = hull_distances([HullEntry(i, Counter(e.crystal.species), e.label.energy_ev) for i, e in at_fidelity.items()])
        for i, result in results.items():
            entry = at_fidelity[i]
            if len(set(entry.crystal.species)) == 1:
                continue
            row = rows.get(entry.name)
            if row is None:
                reduced = entry.crystal.to_pymatgen().composition.reduced_composition
                row = rows[entry.name] = CompoundRow(entry.name, entry.crystal.reduced_formula)
                row.experiment = experimental_formation_energy(entry.name, int(reduced.num_atoms))
            row.formation[fidelity] = result.formation_energy_per_atom_ev
            row.above_hull[fidelity] = result.e_above_hull_per_atom_ev
    return sorted(rows.values(), key=lambda r: (r.formula, r.name))


@dataclass
class PolymorphRow:
    """A prototype's energy above its formula's lowest CCSD(T) prototype (eV/atom)."""

    name: str
    ground: str
    above_ground: dict[Fidelity, float]
    hf_part: float
    correlation_part: float


def _paired_compounds(entries: list[PoolEntry]) -> dict[str, dict[Fidelity, PoolEntry]]:
    """{member: {fidelity: entry}} of the compounds (no elements, no perturbed variants) with done PBE and CCSD(T) labels."""
    labels: dict[str, dict[Fidelity, PoolEntry]] = {}
    for entry in entries:
        if entry.label.status == "done" and not entry.name.startswith("perturbed") and len(set(entry.crystal.species)) > 1:
            labels.setdefault(entry.name, {})[entry.label.fidelity] = entry
    return {n: by for n, by in labels.items() if {Fidelity.PBE, Fidelity.CCSD_T} <= set(by)}


def polymorph_rows(entries: list[PoolEntry]) -> list[PolymorphRow]:
    """ΔE to the lowest CCSD(T) prototype of the same formula, for formulas with several prototypes.

    Only members with done PBE and CCSD(T) labels count; perturbed variants are not
    polymorphs. The CCSD(T) ΔE is split into HF and correlation (CCSD + (T)) parts from
    the label details (``e_hf_ev``, ``e_ccsd_corr_ev``, ``e_t_ev``, per cell).
    """
    paired = _paired_compounds(entries)
    by_formula: dict[str, list[str]] = {}
    for name, by in paired.items():
        by_formula.setdefault(by[Fidelity.CCSD_T].crystal.reduced_formula, []).append(name)
    rows = []
    for names in by_formula.values():
        if len(names) < 2:
            continue
        per_atom = {n: {f: paired[n][f].label.energy_per_atom_ev for f in (Fidelity.PBE, Fidelity.CCSD_T)} for n in names}
        parts = {n: ccsd_t_energy_parts(paired[n][Fidelity.CCSD_T].label, paired[n][Fidelity.CCSD_T].crystal.num_sites) for n in names}
        ground = min(names, key=lambda n: per_atom[n][Fidelity.CCSD_T])
        for name in sorted(set(names) - {ground}):
            rows.append(PolymorphRow(
                name, ground, {f: per_atom[name][f] - per_atom[ground][f] for f in (Fidelity.PBE, Fidelity.CCSD_T)},
                parts[name][0] - parts[ground][0], parts[name][1] - parts[ground][1],
            ))
    return rows


@dataclass
class ReactionRow:
    """A compound's energy against the two binary compounds of its composition (eV/atom).

    ΔE = E(compound)/N − Σ_i (N_i/N)·E_i/N_i over the binaries i it decomposes into, N_i of
    its N atoms going to binary i. No elemental reference enters, so this is the mixing
    energy of an ordered rocksalt AB O₂ against AO + BO, or of ATiO₃ against AO + TiO₂.
    """

    name: str
    binaries: tuple[str, str]
    energy: dict[Fidelity, float]
    hf_part: float
    correlation_part: float


def _composition_vector(crystal, elements: list[str]) -> np.ndarray:  # noqa: ANN001 - Crystal
    counts = Counter(crystal.species)
    return np.array([counts.get(e, 0) for e in elements], dtype=float)  # [n_elements]


def binary_reaction_rows(entries: list[PoolEntry]) -> list[ReactionRow]:
    """ΔE of every compound of three or more elements against two binaries of its elements.

    Members need done PBE and CCSD(T) labels; perturbed variants are left out, and each
    binary formula is represented by its lowest CCSD(T) prototype. Of the binary pairs
    whose non-negative combination gives the compound's composition exactly, the one with
    the lowest CCSD(T) energy is taken (the decomposition a hull would pick). Other
    fidelities are reported where all three members have them; the CCSD(T) ΔE is split
    into HF and correlation parts as in :func:`polymorph_rows`.
    """
    paired = _paired_compounds(entries)
    binaries: dict[str, str] = {}  # reduced formula -> its lowest CCSD(T) member
    for name, by in paired.items():
        if len(set(by[Fidelity.CCSD_T].crystal.species)) == 2:
            formula = by[Fidelity.CCSD_T].crystal.reduced_formula
            if formula not in binaries or by[Fidelity.CCSD_T].label.energy_per_atom_ev < paired[binaries[formula]][Fidelity.CCSD_T].label.energy_per_atom_ev:
                binaries[formula] = name
    rows = []
    for name, by in sorted(paired.items()):
        crystal = by[Fidelity.CCSD_T].crystal
        elements = sorted(set(crystal.species))
        if len(elements) < 3:
            continue
        target = _composition_vector(crystal, elements)
        best: tuple[float, tuple[str, str], np.ndarray] | None = None
        candidates = [b for b in sorted(binaries.values()) if set(paired[b][Fidelity.CCSD_T].crystal.species) <= set(elements)]
        for i, first in enumerate(candidates):
            for second in candidates[i + 1:]:
                basis = np.stack([_composition_vector(paired[b][Fidelity.CCSD_T].crystal, elements) for b in (first, second)], axis=1)  # [n_elements, 2]
                amounts, *_ = np.linalg.lstsq(basis, target, rcond=None)  # cells of each binary per compound cell
                if np.any(amounts <= 0) or not np.allclose(basis @ amounts, target, atol=1e-8):
                    continue
                shares = amounts * basis.sum(axis=0) / target.sum()  # fraction of the compound's atoms in each binary
                ccsd_t = sum(w * paired[b][Fidelity.CCSD_T].label.energy_per_atom_ev for w, b in zip(shares, (first, second), strict=True))
                if best is None or ccsd_t < best[0]:
                    best = (ccsd_t, (first, second), shares)
        if best is None:
            continue
        _, pair, shares = best
        members = [by, *(paired[b] for b in pair)]
        weights = [1.0, *(-shares)]
        fidelities = [f for f in Fidelity if all(f in m for m in members)]
        energy = {f: sum(w * m[f].label.energy_per_atom_ev for w, m in zip(weights, members, strict=True)) for f in fidelities}
        parts = [ccsd_t_energy_parts(m[Fidelity.CCSD_T].label, m[Fidelity.CCSD_T].crystal.num_sites) for m in members]
        hf = sum(w * part[0] for w, part in zip(weights, parts, strict=True))
        correlation = sum(w * part[1] for w, part in zip(weights, parts, strict=True))
        rows.append(ReactionRow(name, pair, energy, hf, correlation))
    return rows


def mean_absolute_error_to_experiment(rows: list[CompoundRow], fidelity: Fidelity) -> tuple[float, int]:
    """(MAE of ΔE_f against experiment in eV/atom, number of compounds) at one fidelity; nan when none."""
    errors = [abs(r.formation[fidelity] - r.experiment) for r in rows if r.experiment is not None and fidelity in r.formation]
    return (sum(errors) / len(errors) if errors else math.nan), len(errors)


def _format(value: float | None) -> str:
    return "" if value is None else f"{value:+.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL_FILE, help="pool data file")
    parser.add_argument("--preset", default="gamma", choices=sorted(PRESETS), help="the settings family")
    args = parser.parse_args()
    entries = entries_at(read_pool_file(args.pool), lambda f: preset_settings(args.preset, f))
    rows = compound_rows(entries)
    fidelities = [f for f in Fidelity if any(f in r.formation for r in rows)]
    header = f"{'member':<28} {'formula':<9}" + "".join(f" {'ΔE_f ' + f.value:>13} {'E_hull ' + f.value:>14}" for f in fidelities)
    print(f"{args.preset} preset: {len(rows)} compounds (eV/atom; hull window {HULL_WINDOW_EV})")
    print(header + f" {'experiment':>10}  call")
    for row in rows:
        cells = "".join(f" {_format(row.formation.get(f)):>13} {_format(row.above_hull.get(f)):>14}" for f in fidelities)
        print(f"{row.name:<28} {row.formula:<9}{cells} {_format(row.experiment):>10}  {row.pbe_call}")
    for fidelity in fidelities:
        mae, count = mean_absolute_error_to_experiment(rows, fidelity)
        if count:
            print(f"{fidelity.value}: ΔE_f MAE to experiment {mae:.3f} eV/atom over {count} compounds")
    wrong = [r for r in rows if r.pbe_call]
    paired = sum(1 for r in rows if Fidelity.PBE in r.above_hull and Fidelity.CCSD_T in r.above_hull)
    print(f"PBE wrong calls: {len(wrong)} of {paired} compounds with both labels" + "".join(f"; {r.name} ({r.pbe_call})" for r in wrong))
    polymorphs = polymorph_rows(entries)
    if polymorphs:
        print("\npolymorphs: energy above the formula's lowest CCSD(T) prototype (eV/atom)")
        print(f"{'member':<28} {'ground':<16} {'ΔE pbe':>8} {'ΔE ccsd_t':>10} {'HF part':>8} {'corr part':>10}")
        for row in polymorphs:
            print(f"{row.name:<28} {row.ground:<16} {row.above_ground[Fidelity.PBE]:>+8.3f} {row.above_ground[Fidelity.CCSD_T]:>+10.3f} {row.hf_part:>+8.3f} {row.correlation_part:>+10.3f}")
    reactions = binary_reaction_rows(entries)
    if reactions:
        print("\nagainst binaries: ΔE = E(compound) − E(two binaries of its composition), eV/atom (no elemental reference enters)")
        print(f"{'member':<28} {'binaries':<36} {'ΔE pbe':>8} {'ΔE scan':>8} {'ΔE hse06':>9} {'ΔE ccsd_t':>10} {'HF part':>8} {'corr part':>10} {'pbe−ccsd_t':>11}")
        for row in reactions:
            others = "".join(f" {_format(row.energy.get(f)):>{w}}" for f, w in ((Fidelity.SCAN, 8), (Fidelity.HSE06, 9)))
            print(f"{row.name:<28} {' + '.join(row.binaries):<36} {row.energy[Fidelity.PBE]:>+8.3f}{others} {row.energy[Fidelity.CCSD_T]:>+10.3f} {row.hf_part:>+8.3f}"
                  f" {row.correlation_part:>+10.3f} {row.energy[Fidelity.PBE] - row.energy[Fidelity.CCSD_T]:>+11.3f}")


if __name__ == "__main__":
    main()
