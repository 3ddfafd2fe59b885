"""Convergence of labels in one setting (cutoff, grid level, density fitting...), measured.

For each structure and fidelity, labels at several values of one setting (each in its
own child process) and prints energy per atom, its difference to the last value (the
reference, put the most accurate last), wall time and peak memory. These figures set
the labeller's defaults and error bars.

    .venv/bin/python benchmarks/labeller/convergence.py --structures MgO --fidelities pbe \
        --vary grid_level=1,2,3,5 [--set density_fit=gdf] [--threads 2]
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
    parser.add_argument("--vary", default="ke_cutoff_ha=60,80,100,140", help="setting=value1,value2,... (JSON values)")
    parser.add_argument("--set", nargs="*", default=[], help="extra settings key=value (JSON values)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    extra = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    key, values = args.vary.split("=", 1)
    variants = [_value(v) for v in values.split(",")]
    crystals = {r.source_id: r.crystal for r in builtin_prototypes()}
    print(f"settings: {extra or 'defaults'}; threads {args.threads}")
    for name in args.structures:
        crystal = crystals[STRUCTURES[name]]
        for fidelity in args.fidelities:
            rows = []
            for cutoff in variants:
                settings = LabelSettings(**{**extra, key: cutoff}, threads=args.threads, timeout_s=args.timeout)
                result = label_isolated(crystal, fidelity, settings)
                rows.append((cutoff, result))
                energy = f"{result.energy_per_atom_ev:.6f}" if result.ok else result.error
                mesh = result.details.get("cost", {}).get("mesh")
                print(
                    f"{name:<7} {fidelity:<7} {key}={cutoff}  mesh {mesh}  E/atom {energy} eV  "
                    f"{result.wall_time_s:7.1f} s  peak {result.details.get('peak_rss_mb', float('nan')):7.0f} MB",
                    flush=True,
                )
            done = [(c, r) for c, r in rows if r.ok]
            if len(done) > 1:
                reference = done[-1][1].energy_per_atom_ev
                for cutoff, result in done[:-1]:
                    delta = (result.energy_per_atom_ev - reference) * 1000
                    per_cell_mha = delta / 1000 / HARTREE_TO_EV * crystal.num_sites * 1000
                    print(f"{name:<7} {fidelity:<7} {key}={cutoff} minus {key}={done[-1][0]}: {delta:+9.3f} meV/atom ({per_cell_mha:+.3f} mHa/cell)")


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


if __name__ == "__main__":
    main()
