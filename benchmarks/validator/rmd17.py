"""Backbone check on rMD17 ethanol: train on the first 950 frames, validate on the last 50.

Prints the energy MAE (meV per molecule), the force MAE (meV/Å) and the training
time. Published MACE (256 channels, L = 3, 1000 frames, GPU, ~2 days): 0.4 meV and
2.1 meV/Å; this runs a small network for a fixed number of epochs on CPU threads, or on
a GPU with ``--device cuda``. ``--minutes M`` replaces ``--epochs``: a two-epoch run
times its second epoch (the first holds the warm-up), then the training runs as many
epochs as fit in M minutes (the cosine learning-rate schedule needs the number of epochs
up front).

    .venv/bin/python benchmarks/validator/rmd17.py [--epochs 60 | --minutes M] [--channels 32] [--max-l 1] [--threads 2] [--dtype float32] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.samples import load_rmd17
from mfdisco.validator.training import train_potential, training_device

DEFAULT_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "rmd17" / "rmd17_ethanol_train_01.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("MFDISCO_RMD17", DEFAULT_FILE)))
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--minutes", type=float, default=None, help="training time budget; sets the number of epochs from a timed epoch")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--max-l", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--forces-weight", type=float, default=100.0)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N")
    args = parser.parse_args()
    if args.minutes is not None and args.minutes <= 0:
        sys.exit(f"--minutes must be positive, got {args.minutes}")
    if not args.data.is_file():
        sys.exit(f"rMD17 file not found: {args.data} (pass --data or set MFDISCO_RMD17)")
    try:
        training_device(args.device)
    except ValueError as error:
        sys.exit(str(error))
    warnings.filterwarnings("ignore", message="The TorchScript type system")
    frames = load_rmd17(args.data)
    train, valid = frames[:950], frames[950:]
    config = PotentialConfig(
        num_channels=args.channels, max_l=args.max_l, epochs=args.epochs, batch_size=args.batch_size, forces_weight=args.forces_weight,
        learning_rate=args.learning_rate, threads=args.threads, dtype=args.dtype, ensemble_size=1, device=args.device,
    )
    if args.minutes is not None:
        history = train_potential(train, config.model_copy(update={"epochs": 2}), valid, progress=False).history
        epoch_s = history[1]["elapsed_s"] - history[0]["elapsed_s"]
        config = config.model_copy(update={"epochs": max(1, int(args.minutes * 60 / epoch_s))})
        print(f"timed epoch (the second of two): {epoch_s:.1f} s -> {config.epochs} epochs in {args.minutes} min")
    cpu_start, start = time.process_time(), time.perf_counter()
    result = train_potential(train, config, valid)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    metrics = result.metrics["pbe"]
    print(f"rMD17 ethanol, {len(train)} train / {len(valid)} validation frames, {sum(p.numel() for p in result.model.parameters())} parameters")
    print(f"config: {args.channels} channels, L={args.max_l}, {config.epochs} epochs, batch {args.batch_size}, {args.dtype}, {args.threads} threads, device {args.device}")
    print(f"energy MAE {metrics['energy_mae_mev']:.2f} meV   force MAE {metrics['forces_mae_mev_per_a']:.2f} meV/Å   (published MACE: 0.4 meV, 2.1 meV/Å)")
    print(f"training: {wall / 60:.1f} min wall, {cpu / 3600:.2f} CPU h, device {args.device}")


if __name__ == "__main__":
    main()
