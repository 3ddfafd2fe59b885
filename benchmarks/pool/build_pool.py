"""The reference pool: a fixed, seeded set of >= 200 small crystals labelled with PySCF.

Members: ``mfdisco.labeller.pool_members`` (elemental references, binary and ternary
oxides, their perturbed and substituted variants; 2-6 atoms). Labelled at PBE and
CCSD(T) for every member, at SCAN and HSE06 on a seeded subset of >= 60 (every binary
oxide and the elements they need first). Settings: a labeller preset
(``mfdisco.labeller.presets``: ``gamma``, the Γ-point family, ``kpoint``, the k-point
density family, or ``kpoint-sc4``, whose CCSD(T) takes the Γ correlation from supercells
of at least 4 atoms and whose DFT labels are ``kpoint``'s), recorded with every label;
an elemental reference gets the labeller's reference settings (``reference_settings``:
O2 as a triplet), the ones formation energies
look up. The data file holds the labels of every preset side by side.

Resumable: labels live in a work database; the committed data file
``pool_labels.json.gz`` is read back at start, so a fresh checkout continues where the
last run stopped and nothing stored is computed again. The data file is rewritten after
every finished label.

    .venv/bin/python benchmarks/pool/build_pool.py [--preset kpoint] [--fidelities pbe ccsd_t scan hse06] [--max-labels N]
    .venv/bin/python benchmarks/pool/build_pool.py --fidelities ccsd_t --pairs-with pbe   # members with a PBE label first
    .venv/bin/python benchmarks/pool/build_pool.py --preset kpoint --fidelities ccsd_t --pairs-with pbe --compounds-first
    .venv/bin/python benchmarks/pool/build_pool.py --members 'ordered-rocksalt:*' 'perovskite:*TiO3'   # only these members
    .venv/bin/python benchmarks/pool/build_pool.py --fidelities scan --members 'perturbed*:rocksalt:*' --beyond-subset   # SCAN outside the subset
    .venv/bin/python benchmarks/pool/build_pool.py --summary [--preset kpoint]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from collections import Counter
from pathlib import Path

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import NewStructure, add_structures, calculation_to_label, find_calculation, make_engine, record_label, upgrade
from mfdisco.labeller import settings_hash
from mfdisco.labeller.cost import estimate_cost
from mfdisco.labeller.distributed import LabelJob, label_many
from mfdisco.labeller.pool_members import matching_members, member_settings, pool_members
from mfdisco.labeller.presets import PRESETS, preset_settings
from mfdisco.labeller.service import stored_done
from mfdisco.platform.ray_connection import RayConfig, connect_ray

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE / "pool_labels.json.gz"
WORK_DB = HERE / "work" / "pool.db"


def _is_metal(crystal: Crystal) -> bool:
    """An elemental reference other than O2 (a metal: zero gap, the HF hardest to converge)."""
    return set(crystal.species) != {"O"} and len(set(crystal.species)) == 1


def _member_cost(name: str, crystal: Crystal) -> tuple[bool, bool, int]:
    """Order key: easy members first, distinct compounds before perturbed variants, then by basis functions.

    A perturbed variant repeats a compound that is already labelled (its energy differs by
    a strain and displacement term), so every distinct compound is labelled first: a run
    stopped early still covers the most chemistry.

    Members with a transition metal that are open-shell or the metal itself (metallic at Γ:
    fcc Ti ran past 16 minutes without converging) climb the whole SCF ladder and cost the
    most per basis function, so they come after every other member. The O2 reference
    (a triplet, but a small molecule) stays early: every oxide's formation energy needs it.
    """
    from pymatgen.core.periodic_table import Element

    estimate = estimate_cost(crystal, Fidelity.PBE, member_settings(crystal))
    has_d_metal = any(Element(e).is_transition_metal for e in set(crystal.species))
    hard = has_d_metal and (estimate.two_s > 0 or len(set(crystal.species)) == 1)
    return hard, name.startswith("perturbed"), estimate.n_ao


def _load_data_file(engine, ids: dict[str, int]) -> int:  # noqa: ANN001
    if not DATA_FILE.is_file():
        return 0
    data = json.loads(gzip.decompress(DATA_FILE.read_bytes()))
    loaded = 0
    for item in data["labels"]:
        structure_id = ids.get(item["canonical_hash"])
        if structure_id is None:
            continue
        label = Label(**{**item["label"], "fidelity": Fidelity.parse(item["label"]["fidelity"])})
        record_label(engine, structure_id, label)
        loaded += 1
    return loaded


def _write_data_file(engine, members, ids: dict[str, int]) -> None:  # noqa: ANN001
    labels = []
    written: set[int] = set()  # presets that share settings (kpoint-sc4's DFT is kpoint's) share labels: each once
    for preset in PRESETS:
        for name, crystal, _ in members:
            digest = crystal.canonical_hash()
            for fidelity in Fidelity:
                row = find_calculation(engine, ids[digest], fidelity, settings_hash(fidelity, member_settings(crystal, preset_settings(preset, fidelity))))
                if row is not None and row.status in ("done", "failed", "refused") and row.id not in written:  # not the labels in flight
                    written.add(row.id)
                    label = calculation_to_label(row)
                    labels.append({"canonical_hash": digest, "name": name, "preset": preset, "label": {**label.__dict__, "fidelity": fidelity.value}})
    data = {
        "description": "mfdisco reference pool: PySCF labels of small crystals (benchmarks/pool/build_pool.py)",
        "settings": {p: {f.value: preset_settings(p, f).model_dump(mode="json") for f in Fidelity} for p in PRESETS},
        "structures": [{"name": n, "canonical_hash": c.canonical_hash(), "subset": s, **c.to_dict()} for n, c, s in members],
        "labels": labels,
    }
    partial = DATA_FILE.with_suffix(f".{os.getpid()}.partial")  # two runs (one per preset) may write at once
    partial.write_bytes(gzip.compress(json.dumps(data, separators=(",", ":")).encode(), mtime=0))
    partial.replace(DATA_FILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fidelities", nargs="+", default=["pbe", "ccsd_t", "scan", "hse06"])
    parser.add_argument("--max-labels", type=int, default=None, help="stop after this many new labels")
    parser.add_argument("--cpus", type=int, default=2, help="Ray CPUs; one label per CPU")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="wall-clock limit of one label (recorded as failed)")
    parser.add_argument("--summary", action="store_true", help="print what is labelled and stop")
    parser.add_argument("--preset", default="gamma", choices=list(PRESETS), help="the family of label settings")
    parser.add_argument("--compounds-first", action="store_true",
                        help="label compounds and the O2 reference before the metals (their k-mesh HF can run past 40 minutes)")
    parser.add_argument("--pairs-with", default=None, choices=[f.value for f in Fidelity],
                        help="label only members already done at this fidelity (multi-fidelity pairs first)")
    parser.add_argument("--beyond-subset", action="store_true",
                        help="label SCAN and HSE06 for the chosen members outside the SCAN/HSE06 subset too (use with --members)")
    parser.add_argument("--members", nargs="+", default=None, metavar="PATTERN",
                        help="label only members whose name matches a shell-style pattern, e.g. 'ordered-rocksalt:*'")
    args = parser.parse_args()
    members = pool_members()
    WORK_DB.parent.mkdir(exist_ok=True)
    engine = make_engine(f"sqlite:///{WORK_DB}")
    upgrade(engine)
    result = add_structures(engine, [NewStructure(c, "pool", n, {"subset": s}) for n, c, s in members])
    ids = {c.canonical_hash(): i for (_, c, _), i in zip(members, result.ids, strict=True)}
    print(f"pool: {len(members)} members, {sum(s for *_, s in members)} in the SCAN/HSE06 subset; {_load_data_file(engine, ids)} labels read from {DATA_FILE.name}")
    if not args.summary:
        try:
            chosen = matching_members(members, args.members)
        except ValueError as error:
            parser.error(str(error))
        fidelities = [Fidelity.parse(f) for f in args.fidelities]
        base = {f: preset_settings(args.preset, f, timeout_s=args.timeout_s) for f in fidelities}
        jobs = [
            LabelJob(ids[c.canonical_hash()], f, member_settings(c, base[f]))
            for _, c, subset in sorted(chosen, key=lambda m: (args.compounds_first and _is_metal(m[1]), *_member_cost(m[0], m[1])))
            for f in fidelities
            if subset or args.beyond_subset or f in (Fidelity.PBE, Fidelity.CCSD_T)
        ]
        jobs = [j for j in jobs if stored_done(engine, j.structure_id, j.fidelity, j.settings) is None]
        if args.pairs_with:
            partner = Fidelity.parse(args.pairs_with)
            paired = {ids[c.canonical_hash()] for _, c, _ in members if stored_done(engine, ids[c.canonical_hash()], partner, member_settings(c, preset_settings(args.preset, partner))) is not None}
            jobs = [j for j in jobs if j.structure_id in paired]
        jobs = jobs[: args.max_labels] if args.max_labels else jobs
        connect_ray(RayConfig(num_cpus=args.cpus, include_dashboard=False))
        start = time.perf_counter()
        label_many(engine, jobs, order="as_given", on_finished=lambda job, label: _write_data_file(engine, members, ids))
        print(f"labelled {len(jobs)} in {time.perf_counter() - start:.0f} s")
    _summary(engine, members, ids, args.preset)


def _summary(engine, members, ids: dict[str, int], preset: str) -> None:  # noqa: ANN001
    print(f"preset {preset}:")
    for fidelity in Fidelity:
        statuses: Counter = Counter()
        reasons: Counter = Counter()
        cpu_s = 0.0
        for _, crystal, _ in members:
            row = find_calculation(engine, ids[crystal.canonical_hash()], fidelity, settings_hash(fidelity, member_settings(crystal, preset_settings(preset, fidelity))))
            if row is None:
                continue
            statuses[row.status] += 1
            cpu_s += (row.wall_time_s or 0.0) * ((row.settings or {}).get("threads") or 1)
            if row.status != "done":
                reasons[(row.error or "").split(":")[0][:80]] += 1
        print(f"{fidelity.value:<7} " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + f"; {cpu_s / 3600:.2f} CPU h")
        for reason, count in reasons.most_common():
            print(f"          {count} x {reason}")


if __name__ == "__main__":
    main()
