"""Wall time and peak memory per fidelity: PySCF's defaults against mfdisco's tuned settings.

For MgO (2 atoms) and SrTiO3 (5 atoms), each fidelity is labelled twice in a child
process: with a reference and with ``LabelSettings()`` (mfdisco's defaults). Prints
wall time, peak memory, the speed-up and the energy difference (mHa per cell).
``--tuned key=value ...`` names a candidate set of settings on top of ``LabelSettings()``.

References (``--reference``):

* ``pyscf-gdf``: PySCF's defaults for everything but the density fitting, which stays
  Gaussian (mesh from ``precision``, every basis primitive kept, Becke level 3,
  precision 1e-8, HSE06's short-range exchange from erfc-attenuated integrals);
* ``pyscf-plain``: what ``pyscf.pbc.dft.RKS(cell)`` / ``scf.RHF(cell)`` give, FFT density
  fitting on PySCF's own mesh (from ``precision``) with uniform XC grids.

    .venv/bin/python benchmarks/labeller/tuned_vs_default.py [--structures MgO SrTiO3] \
        [--fidelities pbe scan hse06 ccsd_t] [--tuned exp_to_discard=0.1 grid_level=2] [--threads 2]
"""

from __future__ import annotations

import argparse
import json

from mfdisco.core import HARTREE_TO_EV
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller import LabelSettings, label, label_isolated

STRUCTURES = {"MgO": "rocksalt:MgO", "SrTiO3": "perovskite:SrTiO3"}
PYSCF_DEFAULTS = {"ke_cutoff_ha": None, "exp_to_discard": None, "precision": 1e-8, "grid_level": 3, "short_range_exchange": "attenuated"}
REFERENCES = {"pyscf-gdf": PYSCF_DEFAULTS, "pyscf-plain": {**PYSCF_DEFAULTS, "density_fit": "fft"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", nargs="+", default=list(STRUCTURES), choices=list(STRUCTURES))
    parser.add_argument("--fidelities", nargs="+", default=["pbe", "scan", "hse06", "ccsd_t"])
    parser.add_argument("--tuned", nargs="*", default=[], help="candidate settings key=value (JSON values)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3000)
    parser.add_argument("--reference", default="pyscf-gdf", choices=list(REFERENCES))
    parser.add_argument("--energy-only", action="store_true", help="no descriptors and no forces in either run (the SCF alone)")
    parser.add_argument("--reference-memory-mb", type=int, default=None,
                        help="max_memory_mb of the reference run (the child's address-space cap grows with it)")
    parser.add_argument("--reference-in-process", action="store_true",
                        help="run the reference in this process, without the child's address-space cap or timeout "
                             "(PySCF's FFT path reserves far more address space than it touches: it died under a 17 GB cap at 5.9 GB resident)")
    args = parser.parse_args()
    crystals = {r.source_id: r.crystal for r in builtin_prototypes()}
    candidate = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.tuned)}
    common = {"threads": args.threads, "timeout_s": args.timeout, **({"descriptors": False, "forces": False} if args.energy_only else {})}
    print(f"tuned = LabelSettings() with {candidate or 'nothing changed'}")
    for name in args.structures:
        crystal = crystals[STRUCTURES[name]]
        for fidelity in args.fidelities:
            results = {}
            for variant, settings in (
                (args.reference, LabelSettings(**REFERENCES[args.reference], **common,
                                               **({"max_memory_mb": args.reference_memory_mb} if args.reference_memory_mb else {}))),
                ("tuned", LabelSettings(**{**common, **candidate})),
            ):
                in_process = variant == args.reference and args.reference_in_process
                result = label(crystal, fidelity, settings) if in_process else label_isolated(crystal, fidelity, settings)
                results[variant] = result
                outcome = f"E {result.energy_ev / HARTREE_TO_EV:.6f} Ha/cell" if result.ok else f"{result.status}: {result.error}"
                print(
                    f"{name:<7} {fidelity:<7} {variant:<12} {result.wall_time_s:8.1f} s  "
                    f"peak {result.details.get('peak_rss_mb', float('nan')):6.0f} MB  {outcome}",
                    flush=True,
                )
            default, tuned = results[args.reference], results["tuned"]
            if default.ok and tuned.ok:
                delta = (tuned.energy_ev - default.energy_ev) / HARTREE_TO_EV * 1000
                print(f"{name:<7} {fidelity:<7} speed-up {default.wall_time_s / tuned.wall_time_s:5.1f}x  tuned - default {delta:+.3f} mHa/cell", flush=True)


if __name__ == "__main__":
    main()
