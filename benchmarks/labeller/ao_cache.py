"""Wall time of one label with and without the XC grid's AO cache (mfdisco.labeller.ao_cache).

Runs the same label twice in child processes, one with the cache and one with a zero
budget (PySCF's own behaviour), side by side on two cores or one after the other, and
prints the wall times and the energy difference.

    .venv/bin/python benchmarks/labeller/ao_cache.py --structure MgO --preset kpoint --fidelity pbe
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from mfdisco.generator.datasets.prototypes import rocksalt

LATTICE_A = {"MgO": ("Mg", 2.105), "CaO": ("Ca", 2.405), "SrO": ("Sr", 2.58), "BaO": ("Ba", 2.76)}  # rocksalt M-O (Å)


def _run(structure: str, preset: str, fidelity: str, share: float, threads: int, queue) -> None:  # noqa: ANN001
    from mfdisco.labeller import label, methods
    from mfdisco.labeller.presets import preset_settings

    methods.AO_CACHE_SHARE = share
    metal, distance = LATTICE_A[structure]
    start = time.perf_counter()
    result = label(rocksalt(metal, "O", distance), fidelity, preset_settings(preset, fidelity, threads=threads))
    queue.put((share, time.perf_counter() - start, result.status, result.energy_ev, (result.details or {}).get("scf_time_s")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structure", choices=sorted(LATTICE_A), default="MgO")
    parser.add_argument("--preset", default="kpoint")
    parser.add_argument("--fidelity", default="pbe")
    parser.add_argument("--threads", type=int, default=1, help="threads per label")
    parser.add_argument("--sequential", action="store_true", help="one label after the other instead of side by side")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    runs = [context.Process(target=_run, args=(args.structure, args.preset, args.fidelity, share, args.threads, queue)) for share in (0.25, 0.0)]
    results = []
    if args.sequential:
        for run in runs:
            run.start()
            run.join()
            results.append(queue.get())
    else:
        for run in runs:
            run.start()
        results = [queue.get() for _ in runs]
        for run in runs:
            run.join()
    by_share = {share: rest for share, *rest in results}
    (t_on, status_on, e_on, scf_on), (t_off, status_off, e_off, scf_off) = by_share[0.25], by_share[0.0]
    print(f"{args.structure} {args.fidelity} preset {args.preset}, {args.threads} thread(s), {'sequential' if args.sequential else 'side by side'}")
    print(f"  AO cache on : {t_on:8.1f} s (SCF {scf_on:.1f} s), {status_on}, E = {e_on:.9f} eV")
    print(f"  AO cache off: {t_off:8.1f} s (SCF {scf_off:.1f} s), {status_off}, E = {e_off:.9f} eV")
    print(f"  speed-up {t_off / t_on:.2f}x, |ΔE| = {abs(e_on - e_off):.2e} eV")


if __name__ == "__main__":
    main()
