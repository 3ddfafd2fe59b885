"""Does the Γ correlation part of a polymorph energy converge with the correlation supercell?

    .venv/bin/python benchmarks/labeller/correlation_supercell.py \
        [--members rocksalt:MgO zincblende:MgO cesium-chloride:MgO] [--atoms 4 8] [--threads 1]

The `kpoint-sc4` preset labels CCSD(T) as E_HF on the k-mesh plus the CCSD + (T)
correlation at Γ of the compact supercell of at least 4 atoms
(``correlation_supercell_atoms``). Polymorphs of one formula then carry correlation
energies from supercells of equal size but different shape (rocksalt's and
zincblende's fcc lattices give the tetragonal 4-atom cell (a/√2, a/√2, a), cesium
chloride's simple cubic lattice the face-centred doubling with vectors (2a, 0, 0),
(a, a, 0), (a, 0, a)), so their energy differences inherit whatever finite-size error
the shapes do not share.

For each pool member (``--members``, names as in ``build_pool.py``) and each supercell
size N (``--atoms``), the CCSD(T) correlation per atom is computed at Γ in the compact
supercell of at least N atoms (the HF of the label is at Γ too: only the correlation is
read). Printed: the correlation per atom, its difference to the first member (the
correlation part of the polymorph energy), and the wall time of each label. If the
differences move little from N = 4 to N = 8, the correlation part of the `kpoint-sc4`
polymorph energies is converged to that amount.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", nargs="+", default=["rocksalt:MgO", "zincblende:MgO", "cesium-chloride:MgO"])
    parser.add_argument("--atoms", nargs="+", type=int, default=[4, 8], help="correlation supercell sizes (at least this many atoms)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from mfdisco.core import Fidelity
    from mfdisco.labeller import label
    from mfdisco.labeller.label import ccsd_t_energy_parts
    from mfdisco.labeller.pool_members import matching_members, pool_members
    from mfdisco.labeller.presets import preset_settings
    from mfdisco.labeller.supercells import supercell_multiple

    try:
        chosen = matching_members(pool_members(), args.members)
    except ValueError as error:
        parser.error(str(error))
    crystals = {name: crystal for name, crystal, _ in chosen}
    order = [m for m in args.members if m in crystals] or list(crystals)
    correlation: dict[tuple[str, int], float] = {}
    print(f"{'member':<22} {'N':>3} {'cell':>5} {'Γ corr/atom':>12} {'vs ' + order[0]:>22} {'time':>7}   (eV/atom)")
    for atoms in args.atoms:
        settings = preset_settings("kpoint-sc4", Fidelity.CCSD_T, kspacing=None, kmesh=(1, 1, 1), correlation_supercell_atoms=atoms)
        for name in order:
            crystal = crystals[name]
            start = time.perf_counter()
            result = label(crystal, Fidelity.CCSD_T, settings)
            if not result.ok:
                raise SystemExit(f"{name}, N = {atoms}: CCSD(T) {result.status}: {result.error}")
            correlation[name, atoms] = ccsd_t_energy_parts(result, crystal.num_sites)[1]
            cell = crystal.num_sites * supercell_multiple(crystal.num_sites, atoms)
            print(f"{name:<22} {atoms:>3} {cell:>5} {correlation[name, atoms]:>12.3f} {correlation[name, atoms] - correlation[order[0], atoms]:>+22.3f} {time.perf_counter() - start:>6.0f}s", flush=True)


if __name__ == "__main__":
    main()
