"""Descriptor-proxy speed: milliseconds per structure, batched, on CPU threads.

Structures: the first N rows of Perov-5 (5-atom cubic perovskites). The network is the
default DescriptorProxy (64 hidden, 3 GIN layers, 5 Å cutoff, q of length 8); weights do
not change the cost. Target: ≤ 10 ms per structure (the reference framework: 300 ms).

    .venv/bin/python benchmarks/generator/proxy_speed.py [--structures 1024] [--batch-size 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from mfdisco.generator.datasets.cdvae_csv import read_cdvae_csv
from mfdisco.generator.datasets.records import CrystalRecord
from mfdisco.generator.proxy import DescriptorProxy

PEROV5 = Path(__file__).resolve().parents[3] / "shared" / "data" / "perov_5" / "val.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PEROV5)
    parser.add_argument("--structures", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    crystals = []
    for item in read_cdvae_csv(args.data).items:
        if isinstance(item, CrystalRecord):
            crystals.append(item.crystal)
        if len(crystals) == args.structures:
            break
    proxy = DescriptorProxy(output_dim=8).eval()
    proxy.predict(crystals[: args.batch_size], batch_size=args.batch_size)  # warm-up
    start = time.perf_counter()
    proxy.predict(crystals, batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    print(f"{len(crystals)} Perov-5 structures, batch {args.batch_size}, {args.threads} threads: {1000 * seconds / len(crystals):.2f} ms per structure (graphs included)")


if __name__ == "__main__":
    main()
