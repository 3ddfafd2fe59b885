"""Is the k-mesh HF part of a `kpoint` CCSD(T) label converged as well as its PBE label?

    .venv/bin/python benchmarks/labeller/kmesh_convergence.py \
        --members rocksalt:CaO rocksalt:SrO ordered-rocksalt:CaSrO2 \
        --meshes 2x2x2 3x3x3 [--supercell-atoms 4] [--threads 1]

The `kpoint` presets label every cell on the Γ-centred mesh of ``kspacing = 0.9 Å⁻¹``,
which gives the 2-atom rocksalts 3×3×3 but the 4-atom ordered rocksalts 2×2×2 (or
3×3×2): a mixing energy then subtracts energies sampled with different densities, and
the exact exchange of HF converges more slowly with the k-mesh than a GGA does. This
script computes, for each pool member (``--members``, names as in ``build_pool.py``)
and each k-sampling (``--meshes``: a mesh such as ``3x3x3`` for every cell, a k-point
spacing in Å⁻¹ such as ``0.6``, or ``bvk32``, the k-points of each cell's compact
supercell of at least 32 atoms as in the ``kpoint-bvk32`` preset), the PBE energy with the `kpoint` preset's PBE
settings and the HF energy with its CCSD(T) settings (the k-mesh mean field of the
composite label, stability-checked as there). With ``--supercell-atoms N`` every member
is computed in its compact supercell of at least N atoms (as the `kpoint-sc4`
correlation is), so that a fixed mesh samples parents and ordered cells alike.

Printed: energy per atom, mesh and wall time per calculation; then, for the first
member, its energy relative to the composition-weighted others (a mixing or
formation energy, eV/atom) at each sampling, for HF and PBE side by side. If the HF
mixing energy moves with the sampling while PBE's does not, the k-mesh HF part of the
pool's CCSD(T) labels carries that error.
"""

from __future__ import annotations

import argparse
import os
import time


def _sampling(text: str) -> dict:
    """``3x3x3`` → a fixed mesh for every cell; ``0.6`` → a k-point spacing (Å⁻¹); ``bvk32`` → the k-points of the compact 32-atom supercell."""
    if text.startswith("bvk"):
        atoms = int(text[3:]) if text[3:].isdigit() else 0
        if atoms < 2:
            raise argparse.ArgumentTypeError(f"sampling {text!r}: give bvkN with N >= 2 atoms, like bvk32")
        return {"kspacing": None, "kpoint_supercell_atoms": atoms}
    if "x" in text:
        mesh = tuple(int(n) for n in text.split("x"))
        if len(mesh) != 3 or min(mesh) < 1:
            raise argparse.ArgumentTypeError(f"mesh {text!r} is not three positive integers like 3x3x3")
        return {"kmesh": mesh, "kspacing": None}
    spacing = float(text)
    if spacing <= 0:
        raise argparse.ArgumentTypeError(f"k-point spacing {text!r} must be positive")
    return {"kspacing": spacing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", nargs="+", required=True, help="the first one is compared with the rest by composition")
    parser.add_argument("--meshes", nargs="+", default=["2x2x2", "3x3x3"], help="k-meshes (3x3x3), k-point spacings (Å⁻¹) or Born-von Kármán cells (bvk32)")
    parser.add_argument("--fidelities", nargs="+", default=["hf", "pbe"], choices=["hf", "pbe"])
    parser.add_argument("--supercell-atoms", type=int, default=None, help="compute every member in its compact supercell of at least this many atoms")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    try:
        samplings = [_sampling(text) for text in args.meshes]
    except (argparse.ArgumentTypeError, ValueError) as error:
        parser.error(f"--meshes: {error}")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np

    from mfdisco.core import HARTREE_TO_EV, Fidelity
    from mfdisco.labeller.cell import build_cell, cell_kpoints, supercell_madelung_energy
    from mfdisco.labeller.methods import follow_instabilities, run_mean_field
    from mfdisco.labeller.pool_members import matching_members, member_settings, pool_members
    from mfdisco.labeller.presets import preset_settings
    from mfdisco.labeller.supercells import correlation_supercell

    try:
        chosen = {name: crystal for name, crystal, _ in matching_members(pool_members(), args.members)}
    except ValueError as error:
        parser.error(str(error))
    missing = [name for name in args.members if name not in chosen]
    if missing:
        parser.error(f"--members: no pool member named {', '.join(missing)} (give exact names)")
    crystals = {name: correlation_supercell(chosen[name], args.supercell_atoms)[0] for name in args.members}
    energies: dict[tuple[str, str, int], float] = {}  # (fidelity, member, sampling index) → eV/atom
    for index, (text, sampling) in enumerate(zip(args.meshes, samplings, strict=True)):
        for fidelity in args.fidelities:
            method = Fidelity.CCSD_T if fidelity == "hf" else Fidelity.PBE
            for name, crystal in crystals.items():
                settings = member_settings(crystal, preset_settings("kpoint", method, **sampling, threads=args.threads))
                start = time.perf_counter()
                cell = build_cell(crystal, method, settings)
                result = run_mean_field(cell, method, settings, unrestricted=bool(cell.spin))
                if method is Fidelity.CCSD_T:
                    follow_instabilities(result.mf)
                energy = (float(result.mf.e_tot) + supercell_madelung_energy(cell, settings)) * HARTREE_TO_EV / crystal.num_sites
                energies[(fidelity, name, index)] = energy
                print(
                    f"{fidelity:<3} {name:<26} {crystal.num_sites} atoms  sampling {text:<6} {len(cell_kpoints(cell, settings))} k-points  "
                    f"E/atom {energy:.6f} eV  {time.perf_counter() - start:7.1f} s",
                    flush=True,
                )
    target, *others = args.members
    if not others:
        return
    elements = sorted({element for crystal in crystals.values() for element in crystal.species})

    def fractions(crystal) -> np.ndarray:  # noqa: ANN001
        return np.array([crystal.species.count(element) / crystal.num_sites for element in elements])

    weights, *_ = np.linalg.lstsq(np.array([fractions(crystals[name]) for name in others]).T, fractions(crystals[target]), rcond=None)
    print(f"\n{target} against {', '.join(f'{w:.3f} {name}' for w, name in zip(weights, others, strict=True))} (eV/atom)")
    for index, text in enumerate(args.meshes):
        row = []
        for fidelity in args.fidelities:
            value = energies[(fidelity, target, index)] - sum(w * energies[(fidelity, name, index)] for w, name in zip(weights, others, strict=True))
            row.append(f"{fidelity} {value:+.4f}")
        print(f"sampling {text:<6} " + "   ".join(row))


if __name__ == "__main__":
    main()
