"""Perov-5 benchmark of the diffusion generator: CSP match rate / RMSE and de novo validity.

Fixed-seed 90/10 split of ``../shared/data/perov_5/val.csv`` (3,787 cubic perovskites).
Trains one model for the task on the 90 % within a time budget, then on the 10 %:

* ``--task csp``: one sample per test composition with the full predictor-corrector
  sampler (T levels × (1 predictor + 1 corrector)) and with the fast sampler (100 levels ×
  2 = 200 network evaluations); match rate and RMSE with StructureMatcher(0.5, 10, 0.3);
* ``--task denovo``: as many samples as test structures; structural and SMACT validity,
  COV-R/COV-P, Wasserstein distances of density and element count, uniqueness,
  metallicity trap.

Reference (DiffCSP, full Perov-5 training split on a GPU, 1 sample): 52.02 % match,
RMSE 0.0760 on the test split.

    .venv/bin/python benchmarks/generator/perov5.py --task csp --minutes 55 [--save model.pt]
    .venv/bin/python benchmarks/generator/perov5.py --task csp --load model.pt [--no-lattice-bound]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from mfdisco.generator.backend import DiffusionGenerator
from mfdisco.generator.config import GeneratorConfig
from mfdisco.generator.datasets.cdvae_csv import read_cdvae_csv
from mfdisco.generator.datasets.records import CrystalRecord
from mfdisco.generator.metrics import (
    COVERAGE_CUTOFFS,
    coverage,
    compositional_validity,
    csp_match,
    metallicity_trap,
    structural_validity,
    uniqueness,
    wasserstein_density,
    wasserstein_num_elements,
)
from mfdisco.generator.sampler import SamplerSettings, network_evaluations

PEROV5 = Path(__file__).resolve().parents[3] / "shared" / "data" / "perov_5" / "val.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PEROV5)
    parser.add_argument("--task", choices=["csp", "denovo"], default="csp")
    parser.add_argument("--minutes", type=float, default=55.0, help="training time budget")
    parser.add_argument("--epochs", type=int, default=1000, help="upper bound on epochs")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--test-limit", type=int, default=None, help="score only the first N test structures")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", type=Path, default=None, help="write the trained generator here")
    parser.add_argument("--load", type=Path, default=None, help="score this saved generator instead of training one")
    parser.add_argument("--no-lattice-bound", action="store_true", help="sample without the bound on the predicted clean lattice (for comparison)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    records = [item for item in read_cdvae_csv(args.data).items if isinstance(item, CrystalRecord)]
    order = np.random.default_rng(0).permutation(len(records))
    cut = int(0.9 * len(records))
    train, test = [records[i] for i in order[:cut]], [records[i] for i in order[cut:]]
    test = test[: args.test_limit] if args.test_limit else test
    if args.load is not None:
        generator = DiffusionGenerator.load(args.load)
        config = generator.config
        if config.task != args.task:
            parser.error(f"--load {args.load} holds a {config.task} model, not {args.task}")
        print(f"Perov-5: {len(train)} train / {len(test)} test; {args.task} model from {args.load}")
    else:
        config = GeneratorConfig(task=args.task, hidden=args.hidden, layers=args.layers, epochs=args.epochs, threads=args.threads)
        generator = DiffusionGenerator(config)
        start = time.perf_counter()
        generator.fit(train, time_limit_s=60 * args.minutes)
        train_minutes = (time.perf_counter() - start) / 60
        if args.save is not None:
            generator.save(args.save)
        print(f"Perov-5: {len(train)} train / {len(test)} test; {args.task}, {args.hidden} hidden x {args.layers} layers; "
              f"{len(generator.history)} epochs in {train_minutes:.1f} min, final loss {generator.history[-1]:.4f}")
    if args.no_lattice_bound:
        generator.diffusion.lattice_norm_bound = None
    print(f"lattice bound on the predicted clean lattice: {generator.lattice_norm_bound} Å (Frobenius norm)")
    references = [r.crystal for r in test]
    samplers = {  # unguided: the Perov-5 runs have no condition
        "full PC": SamplerSettings(steps=config.diffusion_steps, guidance=0.0),
        "fast": SamplerSettings(steps=100, guidance=0.0),
    }
    if args.task == "csp":
        compositions = [list(map(int, c.atomic_numbers)) for c in references]
        for label, settings in samplers.items():
            start = time.perf_counter()
            samples = generator.sample(len(compositions), compositions=compositions, settings=settings)
            seconds = time.perf_counter() - start
            score = csp_match(samples + [None] * (len(references) - len(samples)), references)
            print(f"CSP {label} ({network_evaluations(settings, conditional=False)} evaluations): match {100 * score.match_rate:.2f} %, "
                  f"RMSE {score.rmse:.4f}, {len(samples) / seconds:.1f} structures/s")
        print("DiffCSP (GPU, full training split, test split): match 52.02 %, RMSE 0.0760")
    else:
        for label, settings in samplers.items():
            start = time.perf_counter()
            samples = generator.sample(len(references), settings=settings)
            seconds = time.perf_counter() - start
            valid = [c for c in samples if structural_validity(c)]
            print(f"de novo {label} ({network_evaluations(settings, conditional=False)} evaluations, {len(samples)} samples, {len(samples) / seconds:.1f} structures/s): "
                  f"structural validity {100 * len(valid) / len(references):.1f} %, SMACT validity {100 * np.mean([compositional_validity(c) for c in samples]):.1f} %")
            if valid:
                trap = metallicity_trap(valid, [r.crystal for r in train])
                print(f"  W1 density {wasserstein_density(valid, references):.3f} g/cm³, W1 #elements {wasserstein_num_elements(valid, references):.3f}, "
                      f"uniqueness {100 * uniqueness(valid):.1f} %, novelty {100 * trap.novelty:.1f} %, on FCC/BCC/HCP {100 * trap.close_packed_share:.1f} %")
            cov = coverage(samples, references, *COVERAGE_CUTOFFS["perov_5"])
            print(f"  COV-R {100 * cov.recall:.1f} %, COV-P {100 * cov.precision:.1f} % (cutoffs {cov.structure_cutoff}, {cov.composition_cutoff})", flush=True)
        print("DiffCSP (GPU, full training split, test split): COV-R 98.6 %, COV-P 99.5 %")

if __name__ == "__main__":
    main()
