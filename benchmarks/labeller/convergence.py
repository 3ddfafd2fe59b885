"""Convergence of labels in the plane-wave cutoff (and other settings), measured.

For each structure and fidelity, labels at several ``ke_cutoff_ha`` values (each in its
own child process) and prints energy per atom, its difference to the highest cutoff,
wall time and peak memory. These figures set the labeller's defaults and error bars.

    .venv/bin/python benchmarks/labeller/convergence.py --structures MgO --fidelities pbe ccsd_t \
        --cutoffs 60 80 100 140 [--set density_fit=fft] [--threads 2]
"""

from __future__ import annotations

import argparse
import json

from mfdisco.core import HARTREE_TO_EV
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller import LabelSettings, label_isolated

STRUCTURES = {"MgO": "rocksalt:MgO", "SrTiO3": "perovskite:SrTiO3", "MnO": "rocksalt:MnO", "TiO2": "rutile:TiO2", "O2": "molecular:O2", "Mg": "hcp:Mg"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", nargs="+", default=["MgO"], choices=sorted(STRUCTURES))
    parser.add_argument("--fidelities", nargs="+", default=["pbe"])
    parser.add_argument("--cutoffs", nargs="+", type=float, default=[60, 80, 100, 140])
    parser.add_argument("--set", nargs="*", default=[], help="extra settings key=value (JSON values)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    extra = {k: json.loads(v) if v[:1] in "[{0123456789-tfn" else v for k, v in (item.split("=", 1) for item in args.set)}
    crystals = {r.source_id: r.crystal for r in builtin_prototypes()}
    print(f"settings: {extra or 'defaults'}; threads {args.threads}")
    for name in args.structures:
        crystal = crystals[STRUCTURES[name]]
        for fidelity in args.fidelities:
            rows = []
            for cutoff in args.cutoffs:
                settings = LabelSettings(**extra, ke_cutoff_ha=cutoff, threads=args.threads, timeout_s=args.timeout)
                result = label_isolated(crystal, fidelity, settings)
                rows.append((cutoff, result))
                energy = f"{result.energy_per_atom_ev:.6f}" if result.ok else result.error
                mesh = result.details.get("cost", {}).get("mesh")
                print(
                    f"{name:<7} {fidelity:<7} ke {cutoff:6.0f} Ha  mesh {mesh}  E/atom {energy} eV  "
                    f"{result.wall_time_s:7.1f} s  peak {result.details.get('peak_rss_mb', float('nan')):7.0f} MB",
                    flush=True,
                )
            done = [(c, r) for c, r in rows if r.ok]
            if len(done) > 1:
                reference = done[-1][1].energy_per_atom_ev
                for cutoff, result in done[:-1]:
                    delta = (result.energy_per_atom_ev - reference) * 1000
                    print(f"{name:<7} {fidelity:<7} ke {cutoff:6.0f} Ha  minus ke {done[-1][0]:.0f} Ha: {delta:+9.3f} meV/atom ({delta / 1000 / HARTREE_TO_EV * crystal.num_sites * 1000:+.3f} mHa/cell)")


if __name__ == "__main__":
    main()
