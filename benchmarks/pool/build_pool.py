"""The reference pool: a fixed, seeded set of >= 200 small crystals labelled with PySCF.

Members (2-6 atoms, deduplicated by canonical hash), from the built-in prototypes of the
default element list:
    elemental references (fcc, bcc, hcp metals; the O2 molecular crystal);
    binary and ternary oxides (rocksalt, cubic perovskite, fluorite, rutile);
    perturbed variants of each oxide (random displacements sigma = 0.05 Å, random
    strain up to 2 %), two per oxide and three per rocksalt;
    substituted variants: ordered rocksalt A B O2 (4 atoms, cations in alternate (001)
    layers) for pairs of divalent cations, and ordered rutile A B O4 (6 atoms) for pairs
    of tetravalent ones.
Labelled at PBE and CCSD(T) for every member, at SCAN and HSE06 on a seeded subset of
>= 60 (every binary oxide and the elements they need first). Settings: a labeller preset
(``mfdisco.labeller.presets``: ``gamma``, the Γ-point family, or ``kpoint``, the k-point
density family), recorded with every label; an elemental reference gets the labeller's
reference settings (``reference_settings``: O2 as a triplet), the ones formation energies
look up. The data file holds the labels of every preset side by side.

Resumable: labels live in a work database; the committed data file
``pool_labels.json.gz`` is read back at start, so a fresh checkout continues where the
last run stopped and nothing stored is computed again. The data file is rewritten after
every finished label.

    .venv/bin/python benchmarks/pool/build_pool.py [--preset kpoint] [--fidelities pbe ccsd_t scan hse06] [--max-labels N]
    .venv/bin/python benchmarks/pool/build_pool.py --fidelities ccsd_t --pairs-with pbe   # members with a PBE label first
    .venv/bin/python benchmarks/pool/build_pool.py --preset kpoint --fidelities ccsd_t --pairs-with pbe --compounds-first
    .venv/bin/python benchmarks/pool/build_pool.py --members 'ordered-rocksalt:*' 'perovskite:*TiO3'   # only these members
    .venv/bin/python benchmarks/pool/build_pool.py --summary [--preset kpoint]
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import json
import os
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

from mfdisco.core import Crystal, Fidelity, Label
from mfdisco.db import NewStructure, add_structures, calculation_to_label, find_calculation, make_engine, record_label, upgrade
from mfdisco.generator.datasets import builtin_prototypes
from mfdisco.labeller import LabelSettings, settings_hash
from mfdisco.labeller.cost import estimate_cost
from mfdisco.labeller.references import reference_settings
from mfdisco.labeller.distributed import LabelJob, label_many
from mfdisco.labeller.presets import PRESETS, preset_settings
from mfdisco.labeller.service import stored_done
from mfdisco.platform.ray_connection import RayConfig, connect_ray

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE / "pool_labels.json.gz"
WORK_DB = HERE / "work" / "pool.db"
SEED = 20261122
SUBSET_SIZE = 64
_OXIDES = ("rocksalt", "perovskite", "fluorite", "rutile")
_DIVALENT = ("Mg", "Ca", "Sr", "Ba", "Mn", "Fe", "Co", "Ni", "Zn")
_TETRAVALENT = ("Ti", "V", "Cr", "Mn", "Co", "Ni")


def pool_members() -> list[tuple[str, Crystal, bool]]:
    """(name, crystal, in the high-fidelity subset) for every member, deterministic."""
    rng = np.random.default_rng(SEED)
    records = {r.source_id: r for r in builtin_prototypes()}
    members: list[tuple[str, Crystal]] = []
    for source_id, record in records.items():
        prototype = record.properties["prototype"]
        if prototype in ("fcc", "bcc", "hcp", "molecular") or (prototype in _OXIDES and record.crystal.num_sites <= 6):
            members.append((source_id, record.crystal))
    oxides = [(n, c) for n, c in members if n.split(":")[0] in _OXIDES]
    for name, crystal in oxides:
        for k in range(3 if name.startswith("rocksalt:") else 2):
            members.append((f"perturbed{k}:{name}", _perturbed(crystal, rng)))
    rocksalts = {n.split(":")[1][:-1]: c for n, c in oxides if n.startswith("rocksalt:")}
    for a, b in combinations([e for e in _DIVALENT if e in rocksalts], 2):
        members.append((f"ordered-rocksalt:{a}{b}O2", _ordered_rocksalt(rocksalts[a], rocksalts[b], a, b)))
    rutiles = {n.split(":")[1][:-2]: c for n, c in oxides if n.startswith("rutile:")}
    for a, b in combinations([e for e in _TETRAVALENT if e in rutiles], 2):
        members.append((f"ordered-rutile:{a}{b}O4", _ordered_rutile(rutiles[a], rutiles[b], b)))
    unique: dict[str, tuple[str, Crystal]] = {}
    for name, crystal in members:
        unique.setdefault(crystal.canonical_hash(), (name, crystal))
    ordered = list(unique.values())
    subset = _subset([n for n, _ in ordered], rng)
    return [(name, crystal, name in subset) for name, crystal in ordered]


def _perturbed(crystal: Crystal, rng: np.random.Generator) -> Crystal:
    strain = np.eye(3) + np.triu(rng.uniform(-0.02, 0.02, (3, 3)))
    lattice = crystal.lattice @ strain
    cart = crystal.frac_coords @ lattice + rng.normal(0.0, 0.05, (crystal.num_sites, 3))
    return Crystal(lattice, cart @ np.linalg.inv(lattice), crystal.atomic_numbers)


def _ordered_rocksalt(first: Crystal, second: Crystal, a: str, b: str) -> Crystal:
    """A and B in alternate (001) layers of rocksalt: 4-atom tetragonal cell at the mean cubic a.

    Cell a1 = (a/2, a/2, 0), a2 = (a/2, -a/2, 0), a3 = (0, 0, a); A (0, 0, 0), B (½, ½, ½),
    O (½, ½, 0) and (0, 0, ½) in fractional coordinates.
    """
    cubic = np.mean([(4.0 * c.volume / c.num_sites * 2) ** (1 / 3) for c in (first, second)])
    lattice = np.array([[cubic / 2, cubic / 2, 0.0], [cubic / 2, -cubic / 2, 0.0], [0.0, 0.0, cubic]])
    frac = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0, 0, 0.5]]
    return Crystal.from_species(lattice, [a, b, "O", "O"], frac)


def _ordered_rutile(first: Crystal, second: Crystal, b: str) -> Crystal:
    """The rutile of A with its body-centre cation replaced by B, lattice at the mean volume."""
    scale = (second.volume / first.volume) ** (1 / 6)
    species = list(first.species)
    species[1] = b
    return Crystal.from_species(np.array(first.lattice) * scale, species, first.frac_coords)


def member_settings(crystal: Crystal, base: LabelSettings | None = None) -> LabelSettings:
    """The settings a member is labelled with: the reference settings for an element, else ``base``."""
    base = base or LabelSettings()
    elements = set(crystal.species)
    return reference_settings(elements.pop(), base) if len(elements) == 1 else base


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


def matching_members(members: list[tuple[str, Crystal, bool]], patterns: list[str] | None) -> list[tuple[str, Crystal, bool]]:
    """The members whose name matches one of the shell-style ``patterns`` (all when there are none).

    Raises:
        ValueError: a pattern that matches no member, naming it (a typo would otherwise label nothing).
    """
    if not patterns:
        return members
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(name, p) for name, _, _ in members)]
    if unmatched:
        raise ValueError(f"--members: {', '.join(map(repr, unmatched))} match no pool member (names look like 'rocksalt:MgO', 'perturbed0:rocksalt:MgO')")
    return [m for m in members if any(fnmatch.fnmatchcase(m[0], p) for p in patterns)]


def _subset(names: list[str], rng: np.random.Generator) -> set[str]:
    """Binary oxides, the elements they need and O2 first, then a seeded draw up to SUBSET_SIZE."""
    chosen = [n for n in names if n.split(":")[0] in ("rocksalt", "fluorite", "rutile")]
    elements = {n.split(":")[1].rstrip("O0123456789") for n in chosen}
    chosen += [n for n in names if n.split(":")[0] in ("fcc", "bcc", "hcp") and n.split(":")[1] in elements]
    chosen += [n for n in names if n.startswith("molecular:")]
    rest = [n for n in names if n not in chosen]
    chosen += [str(n) for n in rng.choice(rest, size=max(0, SUBSET_SIZE - len(chosen)), replace=False)]
    return set(chosen)


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
    for preset in PRESETS:
        for name, crystal, _ in members:
            digest = crystal.canonical_hash()
            for fidelity in Fidelity:
                row = find_calculation(engine, ids[digest], fidelity, settings_hash(fidelity, member_settings(crystal, preset_settings(preset, fidelity))))
                if row is not None and row.status in ("done", "failed", "refused"):  # not the labels in flight
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
            if subset or f in (Fidelity.PBE, Fidelity.CCSD_T)
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
