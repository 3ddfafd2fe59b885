"""Replay benchmark: pool-based active learning on the reference pool, divergence against baselines.

The pool's compounds with a done PBE and CCSD(T) label are the candidates; their labels
are known but hidden from the selector until it "labels" them. The truth is the CCSD(T)
hull of the whole pool (plus elemental references); a hit is a selected compound with
E_hull(ccsd_t) <= 0.1 eV/atom. Each seed starts from the elemental references and
``--initial`` random compounds, then spends ``--budget`` CCSD(T) calculations in rounds
of ``--k``; the real validator (MACE ensemble, the campaign's small config) is retrained
on everything revealed before each round. Strategies, all with the same budget:

    divergence   S = 0.7 D' + 0.3 U' (D = |ΔE_f,pbe - ΔE_f,ccsd_t| predicted, U = fingerprint
                 distance to the revealed set), batch-diverse selection: mfdisco's rule
    div_window   the same S, candidates whose optimistic predicted CCSD(T) hull distance
                 (E_hull - σ against the revealed CCSD(T) hull) is within 0.1 eV/atom first
                 (the campaign's ``stability_window_ev_per_atom``)
    random       uniform draw
    uncertainty  largest ensemble std of the CCSD(T) prediction
    pbe_only     lowest predicted PBE energy above the revealed PBE hull (the DFT-only baseline)

Prints hit rate and discoveries per CCSD(T) calculation (mean ± std over seeds), their
ratios to random, and how many of the discoveries that PBE misses (more than 0.1 eV/atom
above the PBE hull) each strategy selected (mean over seeds); saves the cumulative-hit
curves as a PNG. The validator learns CCSD(T) as the campaign's does, as PBE plus a
correction head (:attr:`PotentialConfig.delta_to_pbe`); ``--direct-heads`` trains the
CCSD(T) head on its own instead.

    .venv/bin/python benchmarks/replay.py [--preset kpoint] [--exclude PATTERN ...] [--seeds 5] [--budget 8] [--k 2] [--initial 2] [--direct-heads] [--out benchmarks/replay.png]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mfdisco.active_loop.config import DEFAULT_POOL_FILE, SMALL_VALIDATOR, CampaignConfig
from mfdisco.active_loop.fingerprints import fingerprints
from mfdisco.active_loop.hull import HullEntry, hull_distances
from mfdisco.active_loop.scores import combined_score, divergence, nearest_distances, select_batch, window_first, within_stability_window
from mfdisco.core import Fidelity
from mfdisco.labeller.pool_file import entries_at, excluding, read_pool_file
from mfdisco.labeller.presets import preset_settings
from mfdisco.platform.campaign_data import LabelledStructure, predicted_hull_distances, reference_mu

STRATEGIES = ("divergence", "div_window", "random", "uncertainty", "pbe_only")
HIT: float = CampaignConfig.model_fields["hit_threshold_ev_per_atom"].default  # eV/atom, the campaign's discovery threshold


def load(path: Path, preset: str = "gamma", exclude: Sequence[str] = ()) -> tuple[list, dict, dict]:
    """(structures, labels[fidelity][index], is_element[index]) of pool members with PBE and CCSD(T) labels of one preset.

    Members whose name matches a shell-style pattern of ``exclude`` are left out.

    Raises:
        ValueError: a pattern of ``exclude`` that matches no labelled member (naming it).
    """
    entries = excluding(entries_at(read_pool_file(path), lambda f: preset_settings(preset, f)), exclude)
    by_hash: dict[str, dict] = {}
    for entry in entries:
        if entry.label.status == "done" and entry.label.fidelity in (Fidelity.PBE, Fidelity.CCSD_T):
            item = by_hash.setdefault(entry.crystal.canonical_hash(), {"crystal": entry.crystal, "labels": {}})
            item["labels"][entry.label.fidelity] = entry.label
    items = [v for v in by_hash.values() if len(v["labels"]) == 2]
    crystals = [v["crystal"] for v in items]
    labels = {f: {i: v["labels"][f] for i, v in enumerate(items)} for f in (Fidelity.PBE, Fidelity.CCSD_T)}
    return crystals, labels, {i: len(set(c.species)) == 1 for i, c in enumerate(crystals)}


def truth(crystals: list, labels: dict, fidelity: Fidelity, known: set[int] | None = None) -> dict:
    indices = sorted(labels[fidelity]) if known is None else sorted(known)
    return hull_distances([HullEntry(i, Counter(crystals[i].species), labels[fidelity][i].energy_ev) for i in indices])


def run_seed(strategy: str, seed: int, crystals, labels, elements, hits, args) -> tuple[list[int], list[int]]:
    """Cumulative hits after each CCSD(T) calculation, and the compounds selected in order."""
    from mfdisco.validator.config import PotentialConfig
    from mfdisco.validator.ensemble import formation_energies, train_ensemble
    from mfdisco.validator.samples import samples_from_labels

    rng = np.random.default_rng(seed)
    compounds = [i for i in range(len(crystals)) if not elements[i]]
    known = {i for i in range(len(crystals)) if elements[i]} | set(rng.choice(compounds, size=args.initial, replace=False).tolist())
    curve: list[int] = []
    selected: list[int] = []
    config = PotentialConfig(**{**SMALL_VALIDATOR, "epochs": args.epochs, "ensemble_size": args.ensemble_size, "threads": args.threads, "seed": seed,
                                **({"delta_to_pbe": False} if args.direct_heads else {})})
    while len(curve) < args.budget:
        pool = [i for i in compounds if i not in known]
        if not pool:
            break
        k = min(args.k, args.budget - len(curve), len(pool))
        if strategy == "random":
            chosen = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
        else:
            pairs = [(crystals[i], labels[f][i]) for i in sorted(known) for f in (Fidelity.PBE, Fidelity.CCSD_T)]
            ensemble = train_ensemble(samples_from_labels(pairs), config, progress=False)
            revealed = {f: [LabelledStructure(i, crystals[i], labels[f][i]) for i in sorted(known)] for f in (Fidelity.PBE, Fidelity.CCSD_T)}
            mu = {f.value: reference_mu([item for item in revealed[f] if elements[item.structure_id]]) for f in revealed}
            candidates = [crystals[i] for i in pool]
            prediction = ensemble.predict(candidates, [Fidelity.PBE, Fidelity.CCSD_T])  # [N, 2] eV/atom
            if strategy in ("divergence", "div_window"):
                formation = formation_energies(candidates, prediction.energy_per_atom, prediction.fidelities, mu)
                prints = fingerprints(candidates)
                u = nearest_distances(prints, fingerprints([crystals[i] for i in sorted(known)]))
                s = combined_score(divergence(formation[:, 0], formation[:, 1]), u)
                if strategy == "div_window":
                    e_hull = predicted_hull_distances(revealed[Fidelity.CCSD_T], candidates, prediction.energy_per_atom[:, 1])
                    s = window_first(s, within_stability_window(e_hull, prediction.energy_per_atom_std[:, 1], HIT, args.window_z))
                picks = select_batch(s, prints, k, 0.05)
            elif strategy == "uncertainty":
                picks = list(np.argsort(-prediction.energy_per_atom_std[:, 1])[:k])
            else:
                e_hull = predicted_hull_distances(revealed[Fidelity.PBE], candidates, prediction.energy_per_atom[:, 0])
                picks = list(np.argsort(np.nan_to_num(e_hull, nan=np.inf))[:k])
            chosen = [pool[int(p)] for p in picks]
        for index in chosen:
            known.add(index)
            selected.append(index)
            curve.append((curve[-1] if curve else 0) + int(index in hits))
    return curve, selected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL_FILE)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=8, help="CCSD(T) calculations per run")
    parser.add_argument("--k", type=int, default=2, help="selected per round")
    parser.add_argument("--initial", type=int, default=2, help="random compounds revealed at the start")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--ensemble-size", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window-z", type=float, default=1.0, help="div_window: standard deviations of optimism in the CCSD(T) hull distance")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "replay.png")
    parser.add_argument("--preset", default="gamma", help="the pool's settings family (gamma or kpoint)")
    parser.add_argument("--direct-heads", action="store_true",
                        help="the validator's CCSD(T) head predicts on its own, instead of the campaign's Δ-learning (PBE plus a correction head)")
    parser.add_argument("--exclude", nargs="+", default=[], metavar="PATTERN",
                        help="leave out members whose name matches, e.g. 'cesium-chloride:*' (labels known to be unreliable)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        crystals, labels, elements = load(args.pool, args.preset, args.exclude)
    except ValueError as error:
        parser.error(str(error))
    cc_hull = truth(crystals, labels, Fidelity.CCSD_T)
    compounds = [i for i in range(len(crystals)) if not elements[i]]
    hits = {i for i in compounds if i in cc_hull and cc_hull[i].e_above_hull_per_atom_ev <= HIT}
    print(f"pool: {len(compounds)} compounds with PBE and CCSD(T) labels, {sum(elements.values())} elemental structures; "
          f"{len(hits)} compounds within {HIT} eV/atom of the CCSD(T) hull (base rate {len(hits) / max(1, len(compounds)):.2f})")
    # the discoveries DFT alone would miss: within the window at CCSD(T), above it at PBE
    pbe_hull = truth(crystals, labels, Fidelity.PBE)
    missed = {i for i in hits if i in pbe_hull and pbe_hull[i].e_above_hull_per_atom_ev > HIT}
    print(f"{len(missed)} of them lie more than {HIT} eV/atom above the PBE hull (PBE misses them)")
    if hits:  # a perfect selector's hit rate is 1, random's the base rate
        print(f"the most any strategy can reach is {len(compounds) / len(hits):.2f}x random's hit rate")
    start = time.perf_counter()
    runs = {s: [run_seed(s, seed, crystals, labels, elements, hits, args) for seed in range(args.seeds)] for s in STRATEGIES}
    curves = {s: [curve for curve, _ in runs[s]] for s in STRATEGIES}
    rates = {s: np.array([c[-1] / len(c) for c in curves[s]]) for s in STRATEGIES}
    found_missed = {s: np.array([len(missed & set(chosen)) for _, chosen in runs[s]]) for s in STRATEGIES}
    print(f"{'strategy':<12} {'hit rate':>16} {'disc./CCSD(T)':>14} {'x random':>9} {'PBE-missed found':>17}   "
          f"({args.seeds} seeds, budget {args.budget}, k {args.k}; {time.perf_counter() - start:.0f} s)")
    for s in STRATEGIES:
        ratio = rates[s].mean() / rates["random"].mean() if rates["random"].mean() > 0 else float("nan")
        print(f"{s:<12} {rates[s].mean():>8.2f} ± {rates[s].std():<5.2f} {rates[s].mean():>14.2f} {ratio:>9.2f} "
              f"{found_missed[s].mean():>9.1f} of {len(missed)}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    for s in STRATEGIES:
        mean = np.mean([np.pad(c, (0, args.budget - len(c)), mode="edge") for c in curves[s]], axis=0)
        axis.plot(np.arange(1, len(mean) + 1), mean, marker="o", label=s)
    axis.set_xlabel("CCSD(T) calculations")
    axis.set_ylabel("discoveries (mean over seeds)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.out, dpi=120)
    print(f"curves saved to {args.out}")


if __name__ == "__main__":
    main()
