"""Training cost of Δ-learning: one network with direct heads against one with correction heads.

Δ-learning (``PotentialConfig.delta_to_pbe``) predicts every fidelity above PBE as the
PBE head's prediction plus a correction, so each training batch holding non-PBE graphs
costs a second MACE pass (the PBE head, over those graphs alone, without gradients when
they carry no force labels). This script trains the same network on the same pool labels
both ways, one after the other, and prints the wall time of each and their ratio.

Data: the pool's done labels of one preset at the chosen fidelities, cells of at most
``--max-atoms`` atoms. Architecture: the campaign's validator (``SMALL_VALIDATOR``) with
``--channels`` channels; one network, no ensemble, ``--epochs`` epochs.

    .venv/bin/python benchmarks/validator/delta_cost.py [--preset gamma] [--max-atoms 2] [--fidelities pbe scan hse06 ccsd_t] [--channels 32] [--epochs 30] [--threads 1] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import Counter

from mfdisco.active_loop.config import DEFAULT_POOL_FILE, SMALL_VALIDATOR
from mfdisco.core import Fidelity
from mfdisco.labeller.pool_file import entries_at, read_pool_file
from mfdisco.labeller.presets import PRESETS, preset_settings
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.samples import samples_from_labels
from mfdisco.validator.training import train_potential


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", default=DEFAULT_POOL_FILE)
    parser.add_argument("--preset", default="gamma", choices=list(PRESETS))
    parser.add_argument("--max-atoms", type=int, default=2)
    parser.add_argument("--fidelities", nargs="+", default=[f.value for f in Fidelity])
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="trainings per variant (the median is printed)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        fidelities = {Fidelity.parse(f) for f in args.fidelities}
    except ValueError as error:
        parser.error(f"--fidelities: {error}")
    if Fidelity.PBE not in fidelities or len(fidelities) < 2:
        parser.error("--fidelities must hold pbe and at least one fidelity above it")
    entries = entries_at(read_pool_file(args.pool), lambda f: preset_settings(args.preset, f))
    pairs = [(e.crystal, e.label) for e in entries if e.label.status == "done" and e.label.fidelity in fidelities and e.crystal.num_sites <= args.max_atoms]
    samples = samples_from_labels(pairs)
    counts = Counter(s.fidelity.value for s in samples)
    print(f"{len(samples)} samples ({', '.join(f'{f} {n}' for f, n in sorted(counts.items()))}), {sum(s.forces_ev_per_a is not None for s in samples)} with forces")
    times = {}
    for delta in (False, True):
        config = PotentialConfig(**{**SMALL_VALIDATOR, "num_channels": args.channels, "epochs": args.epochs, "ensemble_size": 1, "threads": args.threads, "delta_to_pbe": delta})
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            train_potential(samples, config, progress=False)
            seconds.append(time.perf_counter() - start)
        times[delta] = statistics.median(seconds)
        print(f"{'Δ-learning' if delta else 'direct heads':<13} {times[delta]:7.1f} s  (runs: {', '.join(f'{s:.1f}' for s in seconds)})")
    print(f"Δ-learning / direct: {times[True] / times[False]:.2f}x")


if __name__ == "__main__":
    main()
