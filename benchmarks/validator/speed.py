"""Prediction speed for batches of 64-atom cells on CPU threads, next to CHGNet 0.3.0.

Structures: 2×2×2 conventional rocksalt supercells (64 atoms) of MgO, CaO, NiO and
MnO with seeded random displacements (σ = 0.05 Å) and strains (≤ 2 %). Timed, after
one warm-up batch:

* one network, one fidelity, energies only (the active loop's scoring path);
* one network, one fidelity, energies and forces (relaxation path);
* the full default ensemble (4 members) at PBE and CCSD(T), energies only;
* CHGNet 0.3.0 (pretrained weights from its wheel), energies only (task ``e``) and
  energies + forces (task ``ef``, on 16 of the structures in batches of 4: its memory
  grows by ~180 MB per structure within one call), same threads.

The MACE networks are untrained (weights do not change the cost).

With ``--device cuda`` the MACE networks and CHGNet run on the GPU; ``--no-chgnet``
leaves CHGNet out (where it is not installed, say).

    .venv/bin/python benchmarks/validator/speed.py [--structures 64] [--batch-size 16] [--threads 2] [--device cpu] [--no-chgnet]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import torch

from mfdisco.core import Crystal, Fidelity
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.ensemble import MaceEnsemble
from mfdisco.validator.model import MultiFidelityMACE
from mfdisco.validator.samples import Sample
from mfdisco.validator.training import predict_samples, training_device

LATTICE = {"Mg": 4.21, "Ca": 4.81, "Ni": 4.18, "Mn": 4.45}


def structures(n: int, rng: np.random.Generator) -> list[Crystal]:
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    conventional = np.vstack([fcc, fcc + [0.5, 0, 0]])
    cells = []
    for i in range(n):
        cation = list(LATTICE)[i % len(LATTICE)]
        frac = np.vstack([(conventional + [x, y, z]) / 2 for x in (0, 1) for y in (0, 1) for z in (0, 1)])
        lattice = np.eye(3) * 2 * LATTICE[cation] @ (np.eye(3) + np.triu(rng.uniform(-0.02, 0.02, (3, 3))))
        cart = frac @ lattice + rng.normal(0, 0.05, (64, 3))
        species = ([cation] * 4 + ["O"] * 4) * 8
        cells.append(Crystal.from_species(lattice, species, cart @ np.linalg.inv(lattice)))
    return cells


def timed(label: str, n_structures: int, fn, repeats: int = 1) -> None:  # noqa: ANN001
    """Print the throughput of ``fn`` (one call predicts ``n_structures`` cells): the median of ``repeats`` calls after one warm-up."""
    fn()  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    median = float(np.median(seconds))
    print(f"{label:<58} {n_structures / median:8.1f} structures/s {64 * n_structures / median:9.0f} atoms/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", default="cpu", help="torch device of the MACE networks and CHGNet: cpu, cuda or cuda:N")
    parser.add_argument("--no-chgnet", action="store_true", help="time the MACE networks only")
    parser.add_argument("--repeats", type=int, default=1, help="timed calls per line after the warm-up; the median is printed")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    crystals = structures(args.structures, np.random.default_rng(0))
    samples = [Sample.from_crystal(c, Fidelity.PBE) for c in crystals]
    config = PotentialConfig(dtype=args.dtype, threads=args.threads)
    elements = sorted({int(z) for c in crystals for z in c.atomic_numbers})
    trained = [f.value for f in Fidelity]
    try:
        device = training_device(args.device)
    except ValueError as error:
        sys.exit(str(error))
    members = [MultiFidelityMACE(config, elements, np.zeros((4, len(elements))), np.ones(4), np.zeros(4), 20.0, trained).eval().to(device) for _ in range(4)]
    ensemble = MaceEnsemble(config, members)
    n_params = sum(p.numel() for p in members[0].parameters())
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(f"{args.structures} cells of 64 atoms, batch {args.batch_size}, {where}, torch {torch.__version__}")
    print(f"MACE default config: {config.num_channels} channels, L={config.max_l}, {config.num_interactions} layers, r_max {config.r_max} Å, {args.dtype}, {n_params} parameters")
    timed("MACE, 1 network, 1 fidelity, energy", args.structures, lambda: predict_samples(members[0], samples, ["pbe"], batch_size=args.batch_size), repeats=args.repeats)
    timed("MACE, 1 network, 1 fidelity, energy + forces", args.structures, lambda: predict_samples(members[0], samples, ["pbe"], compute_forces=True, batch_size=args.batch_size), repeats=args.repeats)
    timed("MACE ensemble (4 networks) x (PBE, CCSD(T)), energy", args.structures, lambda: ensemble.predict(crystals, ["pbe", "ccsd_t"]), repeats=args.repeats)
    if args.no_chgnet:
        return
    from chgnet.model import CHGNet

    chgnet = CHGNet.load(model_name="0.3.0", use_device=str(device), verbose=False)
    pymatgen = [c.to_pymatgen() for c in crystals]
    print(f"CHGNet {chgnet.version}: {sum(p.numel() for p in chgnet.parameters())} parameters")
    timed("CHGNet 0.3.0, energy", args.structures, lambda: chgnet.predict_structure(pymatgen, task="e", batch_size=args.batch_size), repeats=args.repeats)
    # CHGNet's force path holds ~180 MB per 64-atom structure for the whole call (23 GB for 64
    # structures at batch 16 was killed by the OOM killer): 16 structures, batch 4.
    timed("CHGNet 0.3.0, energy + forces (16 cells, batch 4)", 16, lambda: chgnet.predict_structure(pymatgen[:16], task="ef", batch_size=4))


if __name__ == "__main__":
    main()
