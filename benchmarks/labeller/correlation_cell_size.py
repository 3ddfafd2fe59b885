"""Is the Γ-point correlation of the composite CCSD(T) comparable between cells of different size?

    .venv/bin/python benchmarks/labeller/correlation_cell_size.py [--cations Mg Ca Sr Ba] [--threads 1]

The `kpoint` preset labels CCSD(T) as a composite: E_HF on the k-mesh plus the CCSD and
(T) correlation energies at Γ of the cell as given. The HF part converges with the
k-mesh; the correlation part carries the finite-size error of Γ sampling, which depends
on the cell. If it differs between a 2-atom and a 4-atom cell of the *same* crystal, then
formation and mixing energies between structures of different cell sizes inherit that
difference.

For each cation X, rocksalt XO is labelled at Γ (the preset's CCSD(T) settings, k-mesh
(1, 1, 1)) in its 2-atom primitive cell and in the 4-atom tetragonal cell of the pool's
ordered rocksalts (X in both cation layers, X's own lattice constant): the same crystal,
so any difference per atom is finite-size error. Then the mixing energy of every ordered
rocksalt ABO₂ with a `kpoint` CCSD(T) label in the pool,

    ΔE_mix = E(ABO₂)/4 − [E(AO)/2 + E(BO)/2]/2   (eV/atom),

is split into its HF (k-mesh) and correlation parts, the correlation taken against the
2-atom parents (what the pool's hull does) and against the 4-atom parents computed here
(cells of equal size and shape).
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cations", nargs="+", default=["Mg", "Ca", "Sr", "Ba"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from mfdisco.active_loop.config import DEFAULT_POOL_FILE
    from mfdisco.core import Fidelity
    from mfdisco.labeller import label
    from mfdisco.labeller.label import ccsd_t_energy_parts
    from mfdisco.labeller.pool_file import entries_at, read_pool_file
    from mfdisco.labeller.pool_members import ordered_rocksalt, pool_members
    from mfdisco.labeller.presets import preset_settings

    members = {name: crystal for name, crystal, _ in pool_members()}
    gamma_settings = preset_settings("kpoint", Fidelity.CCSD_T, kspacing=None, kmesh=(1, 1, 1))
    four_atom: dict[str, float] = {}
    print(f"{'rocksalt':<9} {'Γ corr 2-atom':>14} {'Γ corr 4-atom':>14} {'difference':>11}   (CCSD + (T), eV/atom)")
    for cation in args.cations:
        primitive = members[f"rocksalt:{cation}O"]
        doubled = ordered_rocksalt(primitive, primitive, cation, cation)
        values = []
        for crystal in (primitive, doubled):
            start = time.perf_counter()
            result = label(crystal, Fidelity.CCSD_T, gamma_settings)
            if not result.ok:
                raise SystemExit(f"{cation}O ({crystal.num_sites} atoms): CCSD(T) {result.status}: {result.error}")
            values.append((ccsd_t_energy_parts(result, crystal.num_sites)[1], time.perf_counter() - start))
        (two, two_s), (four, four_s) = values
        four_atom[cation] = four
        print(f"{cation + 'O':<9} {two:>14.3f} {four:>14.3f} {four - two:>+11.3f}   ({two_s:.0f} s and {four_s:.0f} s)")

    labels = {}
    for entry in entries_at(read_pool_file(DEFAULT_POOL_FILE), lambda f: preset_settings("kpoint", f)):
        if entry.label.fidelity == Fidelity.CCSD_T and entry.label.status == "done":
            labels[entry.name] = dict(zip(("hf", "corr"), ccsd_t_energy_parts(entry.label, entry.crystal.num_sites), strict=True))
    print(f"\n{'ordered rocksalt':<24} {'HF (k-mesh)':>11} {'corr vs 2-atom':>15} {'ΔE_mix':>8} {'corr vs 4-atom':>15} {'ΔE_mix':>8}   (eV/atom)")
    for name, parts in sorted(labels.items()):
        if not name.startswith("ordered-rocksalt:"):
            continue
        formula = name.split(":")[1]
        cations = [c for c in args.cations if c in formula]
        if len(cations) != 2 or any(f"rocksalt:{c}O" not in labels for c in cations):
            continue
        first, second = (labels[f"rocksalt:{c}O"] for c in cations)
        hf = parts["hf"] - (first["hf"] + second["hf"]) / 2
        corr_two = parts["corr"] - (first["corr"] + second["corr"]) / 2
        corr_four = parts["corr"] - (four_atom[cations[0]] + four_atom[cations[1]]) / 2
        print(f"{name:<24} {hf:>+11.3f} {corr_two:>+15.3f} {hf + corr_two:>+8.3f} {corr_four:>+15.3f} {hf + corr_four:>+8.3f}")


if __name__ == "__main__":
    main()
