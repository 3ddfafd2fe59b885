"""Multi-fidelity training on the reference pool: joint, progressive and transfer against a CCSD(T)-only control.

Compounds of the pool with both a PBE and a CCSD(T) label are split (seeded) into a
test set (20 %), a validation set (10 %, model selection and recalibration) and a
training set. Elemental references are always trained on, at every fidelity (they fix
each fidelity's atomic reference energies, as the formation energies need them). For
each CCSD(T) budget B the training set keeps every PBE (and SCAN, HSE06) label but only
the CCSD(T) labels of B seeded compounds; each schedule trains
an ensemble on that data and is scored on the test set: MAE per fidelity (meV/atom) and
the ECE of the CCSD(T) ensemble std before and after a scalar recalibration fitted on
the validation set. The control trains on the same B CCSD(T) labels alone.

With few compounds one hold-out split measures the split more than the method (two test
compounds that share a cation no training compound has). ``--leave-one-out`` scores every
compound once instead: for each compound a split with it as the test set and the next
compound as the validation set, the rest as the training pool; the MAE and the ECE of the
raw ensemble are taken over all these held-out predictions, and the ECE after a scalar
recalibration that scales each compound's std by the factor fitted on the other
compounds' held-out predictions.

With SCAN or HSE06 labels in the pool, progressive training (PBE → SCAN → HSE06 →
CCSD(T)) differs from direct transfer and gets its own row, and the MAE of each
intermediate fidelity is printed too. ``--max-atoms`` keeps only cells of at most that
many atoms: on the ``gamma`` preset the Γ-point finite-size error depends on the cell,
so only cells of one size compare. ``--delta-to-pbe`` trains the multi-fidelity schedules
with Δ-learning (:attr:`PotentialConfig.delta_to_pbe`: each fidelity above PBE is PBE's
prediction plus a correction head); the CCSD(T)-only control has no PBE and stays direct.
Each budget first prints a ``Δ-linear`` baseline (:func:`composition_linear_delta`): the
test compound's PBE label plus a per-element shift fitted on the same CCSD(T) labels,
which the networks should beat to be worth training (compare it with the ``on PBE lbl``
column: the network's predicted CCSD(T) − PBE added to the same PBE label, so that the
PBE head's own error cancels; :func:`correction_errors_on_pbe_labels`), and the
same fitted on the compounds alone (``Δ-lin, cpds``): where the elemental references'
CCSD(T) − PBE does not fit the compounds' (metals), the second is the lower.
``--references-at`` names the fidelities whose elemental-reference labels the networks
train on (all by default); ``--references-at pbe scan hse06`` leaves the CCSD(T) labels
of the metals and O2 out, so the CCSD(T) head's atomic reference energies (its
correction's ΔE0 with ``--delta-to-pbe``) are fitted on the compounds alone, as in
``Δ-lin, cpds``. The compounds scored stay the same.

    .venv/bin/python benchmarks/validator/multifidelity.py [--budgets 25 50 100] [--epochs 150] [--ensemble-size 4] [--exclude PATTERN ...] [--leave-one-out]
        [--max-atoms N] [--schedules joint progressive transfer ccsd_t-only] [--delta-to-pbe] [--device cpu] [--baseline-only]
        [--references-at pbe scan hse06 ccsd_t]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfdisco.active_loop.config import DEFAULT_POOL_FILE
from mfdisco.core import Fidelity
from mfdisco.labeller.pool_file import entries_at, excluding, read_pool_file
from mfdisco.labeller.presets import PRESETS, preset_settings
from mfdisco.validator.calibration import expected_calibration_error
from mfdisco.validator.config import PotentialConfig
from mfdisco.validator.recalibration import fit_recalibration
from mfdisco.validator.ensemble import train_ensemble
from mfdisco.validator.samples import samples_from_labels
from mfdisco.validator.training import training_device


SCHEDULES = ("joint", "progressive", "transfer", "ccsd_t-only")


@dataclass(frozen=True)
class CompoundSplit:
    """One partition of the paired compounds (canonical hashes): scored, model selection, training."""

    test: frozenset[str]
    valid: frozenset[str]
    train: tuple[str, ...]  # in seeded order: a budget B takes the first B


def compound_splits(order: Sequence[str], leave_one_out: bool) -> list[CompoundSplit]:
    """The hold-out split (test 20 %, validation 10 %, at least one each) or one split per compound.

    Args:
        order: the paired compounds in seeded random order.
        leave_one_out: each compound is the test set of one split, the next one (cyclically)
            its validation set, the rest its training pool.

    Raises:
        ValueError: fewer than three compounds (no test, validation and training compound).
    """
    if len(order) < 3:
        raise ValueError(f"the pool has {len(order)} compounds with PBE and CCSD(T) labels; a split needs at least 3")
    if leave_one_out:
        splits = []
        for i, key in enumerate(order):
            valid = order[(i + 1) % len(order)]
            splits.append(CompoundSplit(frozenset({key}), frozenset({valid}), tuple(k for k in order if k not in (key, valid))))
        return splits
    n_test, n_valid = max(1, len(order) // 5), max(1, len(order) // 10)
    return [CompoundSplit(frozenset(order[:n_test]), frozenset(order[n_test : n_test + n_valid]), tuple(order[n_test + n_valid :]))]


def training_samples(
    samples: Sequence, split: CompoundSplit, budget: int, elemental: set[str], references_at: set[Fidelity], high_only: bool = False
) -> list:
    """The labels one split trains on at a CCSD(T) budget.

    Every label of the split's training compounds below CCSD(T), the CCSD(T) labels of the
    first ``budget`` of them, and the elemental references' labels at the fidelities in
    ``references_at``; never a label of the test or validation compounds.

    Args:
        samples: the pool's labelled samples (``Sample``), every fidelity.
        split: the compounds to score, to validate on and to train on.
        budget: how many training compounds keep their CCSD(T) label.
        elemental: the keys of the elemental references (metals, O2).
        references_at: the fidelities whose elemental-reference labels are trained on.
        high_only: the CCSD(T) labels alone (the CCSD(T)-only control).
    """
    chosen, held_out = set(split.train[:budget]), split.test | split.valid
    allowed = [s for s in samples if s.key not in held_out and (s.key not in elemental or s.fidelity in references_at)]
    high = [s for s in allowed if (s.key in chosen or s.key in elemental) and s.fidelity == Fidelity.CCSD_T]
    return high if high_only else high + [s for s in allowed if s.fidelity != Fidelity.CCSD_T]


def correction_errors_on_pbe_labels(pooled: dict[Fidelity, list[tuple[float, float, float, str]]]) -> list[float]:
    """Error of the predicted CCSD(T) − PBE on each held-out compound scored at both (eV/atom).

    The CCSD(T) prediction a user gets by adding the network's correction to a computed
    PBE energy: |(Ê_CCSD(T) − Ê_PBE) − (E_CCSD(T) − E_PBE)| per atom, so the PBE head's own
    error cancels. This is what the ``Δ-linear`` baselines are compared with.

    Args:
        pooled: per fidelity, the held-out predictions (ensemble mean, std, label, compound),
            each compound once.
    """
    pbe = {key: (mean, target) for mean, _, target, key in pooled.get(Fidelity.PBE, [])}
    return [abs((mean - pbe[key][0]) - (target - pbe[key][1])) for mean, _, target, key in pooled.get(Fidelity.CCSD_T, []) if key in pbe]


def leave_group_out_recalibrated_std(mean: np.ndarray, std: np.ndarray, target: np.ndarray, groups: Sequence[str], kind: str = "scalar") -> np.ndarray:
    """Ensemble stds recalibrated without looking at their own compound.

    Each group's (compound's) stds are rescaled by the recalibration fitted on the
    predictions of all other groups, so the ECE of the result is an out-of-sample
    figure, like the hold-out split's recalibration on the validation set.

    Args:
        mean, std, target: [n] predicted means, raw stds and labels (eV/atom).
        groups: [n] the compound of each prediction.
        kind: ``scalar`` or ``isotonic`` (:func:`mfdisco.validator.recalibration.fit_recalibration`).

    Returns:
        [n] recalibrated stds (eV/atom).

    Raises:
        ValueError: fewer than two groups.
    """
    keys = np.asarray(groups)
    if len(set(keys.tolist())) < 2:
        raise ValueError("a leave-group-out recalibration needs predictions of at least two compounds")
    recalibrated = np.empty_like(std, dtype=float)
    for key in set(keys.tolist()):
        own = keys == key
        recalibration = fit_recalibration(kind, mean[~own], std[~own], target[~own])
        recalibrated[own] = recalibration.apply(std[own])
    return recalibrated


def composition_linear_delta(samples: Sequence, train_keys: set[str], test_keys: set[str]) -> dict[str, tuple[float, float]]:
    """Baseline: CCSD(T) per atom = the PBE label per atom + a per-element correction, Σ_e x_e·c_e.

    c_e (eV/atom of element e) is the least-squares fit of Δ = E_CCSD(T)/N − E_PBE/N over
    the structures of ``train_keys`` that have both labels, x_e the atom fractions. Unlike
    the networks, which predict PBE too, it is given each test compound's PBE label: it
    measures how much of CCSD(T) − PBE is an additive shift per element, the part a
    Δ-model gets from its per-fidelity atomic reference energies alone.

    Args:
        samples: :class:`~mfdisco.validator.samples.Sample` objects with ``key``, ``fidelity``, ``energy_ev``.
        train_keys: structures fitted on (compounds and elemental references).
        test_keys: structures predicted.

    Returns:
        {key: (predicted, labelled CCSD(T) energy per atom in eV)} for each test structure
        that has both labels.
    """
    per_atom: dict[str, dict[Fidelity, float]] = {}
    fractions: dict[str, dict[int, float]] = {}
    for s in samples:
        if s.fidelity in (Fidelity.PBE, Fidelity.CCSD_T) and s.energy_ev is not None:
            per_atom.setdefault(s.key, {})[s.fidelity] = s.energy_ev / s.num_atoms
            numbers, counts = np.unique(s.atomic_numbers, return_counts=True)
            fractions[s.key] = dict(zip(numbers.tolist(), (counts / counts.sum()).tolist(), strict=True))
    paired = {k for k, v in per_atom.items() if len(v) == 2}
    fitted = sorted(paired & train_keys)
    elements = sorted({z for k in fitted for z in fractions[k]})
    design = np.array([[fractions[k].get(z, 0.0) for z in elements] for k in fitted])  # [n_train, n_elements]
    delta = np.array([per_atom[k][Fidelity.CCSD_T] - per_atom[k][Fidelity.PBE] for k in fitted])  # [n_train] eV/atom
    correction, *_ = np.linalg.lstsq(design, delta, rcond=None)
    shift = dict(zip(elements, correction.tolist(), strict=True))
    predictions = {}
    for key in sorted(paired & test_keys):
        if set(fractions[key]) <= set(shift):
            predicted = per_atom[key][Fidelity.PBE] + sum(x * shift[z] for z, x in fractions[key].items())
            predictions[key] = (predicted, per_atom[key][Fidelity.CCSD_T])
    return predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL_FILE)
    parser.add_argument("--budgets", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--ensemble-size", type=int, default=4)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="torch device the networks train on: cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="gamma", choices=list(PRESETS), help="the pool's settings family to use")
    parser.add_argument("--max-atoms", type=int, default=None, help="keep only cells of at most this many atoms")
    parser.add_argument("--schedules", nargs="+", default=None, choices=SCHEDULES, help="the schedules to run (default: all that apply)")
    parser.add_argument("--delta-to-pbe", action="store_true",
                        help="Δ-learning: every fidelity but PBE predicted as PBE plus a correction head (not the CCSD(T)-only control, which has no PBE)")
    parser.add_argument("--exclude", nargs="+", default=[], metavar="PATTERN",
                        help="leave out members whose name matches, e.g. 'cesium-chloride:*' (labels known to be unreliable)")
    parser.add_argument("--references-at", nargs="+", default=[f.value for f in Fidelity], choices=[f.value for f in Fidelity], metavar="FIDELITY",
                        help="the fidelities whose elemental-reference labels are trained on (default: all); e.g. 'pbe scan hse06' fits the "
                             "CCSD(T) atomic reference energies on the compounds alone")
    parser.add_argument("--baseline-only", action="store_true", help="print the Δ-linear baseline of each budget and train nothing")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="score every compound once, trained without it (one training per compound, schedule and budget)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    try:
        entries = excluding(entries_at(read_pool_file(args.pool), lambda f: preset_settings(args.preset, f)), args.exclude)
    except ValueError as error:
        parser.error(str(error))
    if args.max_atoms is not None and args.max_atoms < 1:
        parser.error(f"--max-atoms must be >= 1, got {args.max_atoms}")
    samples = [s for s in samples_from_labels((e.crystal, e.label) for e in entries) if args.max_atoms is None or s.num_atoms <= args.max_atoms]
    by_key: dict[str, set[Fidelity]] = {}
    for s in samples:
        by_key.setdefault(s.key, set()).add(s.fidelity)
    elemental = {s.key for s in samples if len(set(s.atomic_numbers.tolist())) == 1}
    references_at = {Fidelity.parse(f) for f in args.references_at}
    # a compound is scored only if each of its elements has an elemental reference at both
    # fidelities: without one, the atomic reference energy E0 of that element is not
    # determined at that fidelity (rocksalt TiO in the test set, no Ti metal label: 157 eV/atom off)
    referenced = set.intersection(*({int(s.atomic_numbers[0]) for s in samples if s.key in elemental and s.fidelity == f} for f in (Fidelity.PBE, Fidelity.CCSD_T)))
    numbers = {s.key: set(s.atomic_numbers.tolist()) for s in samples}
    both = sorted(k for k, fidelities in by_key.items() if {Fidelity.PBE, Fidelity.CCSD_T} <= fidelities and k not in elemental)
    paired = [k for k in both if numbers[k] <= referenced]
    if len(paired) < len(both):
        print(f"left out {len(both) - len(paired)} compounds with an element that has no elemental reference at PBE and CCSD(T)")
    order = [str(k) for k in np.random.default_rng(args.seed).permutation(paired)]
    splits = compound_splits(order, args.leave_one_out)
    if args.leave_one_out:
        print(f"pool: {len(samples)} labels, {len(elemental)} elemental references, {len(paired)} compounds with PBE and CCSD(T); "
              f"leave-one-out: {len(splits)} splits, each scoring one compound, validating on one, training pool {len(splits[0].train)}")
    else:
        print(f"pool: {len(samples)} labels, {len(elemental)} elemental references, {len(paired)} compounds with PBE and CCSD(T); "
              f"test {len(splits[0].test)}, validation {len(splits[0].valid)}, training pool {len(splits[0].train)} structures")
    counts = {f.value: sum(s.fidelity == f for s in samples) for f in Fidelity}
    print("labels per fidelity: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    try:
        training_device(args.device)
    except ValueError as error:
        sys.exit(str(error))
    base = PotentialConfig(epochs=args.epochs, ensemble_size=args.ensemble_size, num_channels=args.channels, threads=args.threads, seed=args.seed, dtype="float32",
                           device=args.device)
    intermediates = [f for f in (Fidelity.SCAN, Fidelity.HSE06) if any(s.fidelity == f for s in samples)]
    intermediate = bool(intermediates)
    header = (f"{'budget':>6} {'schedule':<12} {'CCSD(T) MAE':>12} {'on PBE lbl':>10} {'PBE MAE':>9} " + "".join(f"{f.value.upper() + ' MAE':>10} " for f in intermediates)
              + f"{'ECE before':>11} {'ECE after':>10} {'time':>7}")
    print(header + "\n" + "-" * len(header))
    schedules = [s for s in SCHEDULES if (intermediate or s != "progressive") and (args.schedules is None or s in args.schedules)]
    for budget in args.budgets:
        chosen_size = min(budget, len(splits[0].train))
        note = "" if chosen_size == budget else f" (only {chosen_size} available)"
        if not intermediate and (args.schedules is None or "progressive" in args.schedules):
            print(f"{chosen_size:>6} {'progressive':<12} = transfer: no SCAN or HSE06 labels, so its stages are PBE then PBE + CCSD(T)")
        for name, references in (("Δ-linear", elemental), ("Δ-lin, cpds", set())):
            linear: dict[str, tuple[float, float]] = {}
            for split in splits:
                linear.update(composition_linear_delta(samples, set(split.train[:budget]) | references, set(split.test)))
            if linear:
                linear_mae = float(np.mean([abs(m - t) for m, t in linear.values()])) * 1000
                fitted = "the same labels" if references else "the same compounds, elemental references left out"
                print(f"{chosen_size:>6} {name:<12} {linear_mae:>9.1f} meV  (baseline: each test compound's PBE label + a per-element CCSD(T) − PBE shift fitted on {fitted})")
        for schedule in [] if args.baseline_only else schedules:
            config = base.model_copy(update={"schedule": "joint" if schedule == "ccsd_t-only" else schedule,
                                             "delta_to_pbe": args.delta_to_pbe and schedule != "ccsd_t-only"})
            pooled: dict[Fidelity, list[tuple[float, float, float, str]]] = {}  # per fidelity: (mean, std, target eV/atom, compound)
            seconds, validation_raw_ece = 0.0, float("nan")
            for split in splits:
                train = training_samples(samples, split, budget, elemental, references_at, high_only=schedule == "ccsd_t-only")
                fidelities = {t.fidelity for t in train}
                start = time.perf_counter()
                ensemble = train_ensemble(train, config, [s for s in samples if s.key in split.valid and s.fidelity in fidelities], progress=False)
                seconds += time.perf_counter() - start
                test = [s for s in samples if s.key in split.test and s.fidelity in ensemble.trained_fidelities]
                validation_raw_ece = ensemble.metrics.get("calibration_ccsd_t", {}).get("ece_before", float("nan"))
                for fidelity in ensemble.trained_fidelities:
                    scored = [s for s in test if s.fidelity == fidelity]
                    prediction = ensemble.predict_samples(scored, [fidelity])  # std recalibrated where a recalibration was fitted
                    pooled.setdefault(fidelity, []).extend(
                        zip(prediction.energy_per_atom[:, 0], prediction.energy_per_atom_std[:, 0], (s.energy_ev / s.num_atoms for s in scored),
                            (s.key for s in scored))
                    )
            mae = {f: float(np.mean([abs(m - t) for m, _, t, _ in rows])) * 1000 for f, rows in pooled.items()}
            correction_errors = correction_errors_on_pbe_labels(pooled)
            correction_mae = float(np.mean(correction_errors)) * 1000 if correction_errors else float("nan")
            raw_ece = recalibrated_ece = float("nan")
            if args.ensemble_size > 1:
                mean, std, target, compounds = (np.array(column) for column in zip(*pooled[Fidelity.CCSD_T]))
                std = np.maximum(std.astype(float), 1e-9)
                test_ece = expected_calibration_error(mean, std, target)
                if args.leave_one_out:
                    # one validation compound per split is too few to fit a recalibration: each compound's std is
                    # recalibrated on the pooled held-out predictions of the other compounds instead
                    recalibrated = leave_group_out_recalibrated_std(mean, std, target, compounds)
                    raw_ece, recalibrated_ece = test_ece, expected_calibration_error(mean, recalibrated, target)
                else:
                    raw_ece, recalibrated_ece = validation_raw_ece, test_ece
            print(
                f"{chosen_size:>6} {schedule:<12} {mae[Fidelity.CCSD_T]:>9.1f} meV {correction_mae:>10.1f} {mae.get(Fidelity.PBE, float('nan')):>9.1f} "
                + "".join(f"{mae.get(f, float('nan')):>10.1f} " for f in intermediates)
                + f"{raw_ece:>11.3f} {recalibrated_ece:>10.3f} {seconds:>6.0f}s{note}"
            )
    if args.leave_one_out:
        print("MAE in meV/atom over all compounds, each predicted by the models trained without it; ECE of the CCSD(T) std over "
              "the same predictions: before = raw ensemble, after = each compound's std scaled by the recalibration fitted on the "
              "other compounds' held-out predictions")
    else:
        print("MAE in meV/atom on the test structures; ECE of the CCSD(T) std: before = raw ensemble on the validation set, after = recalibrated, on the test set")
    print("'on PBE lbl': the CCSD(T) MAE when the network's predicted CCSD(T) − PBE is added to each test compound's PBE label (as the Δ-linear baselines are)")


if __name__ == "__main__":
    main()
