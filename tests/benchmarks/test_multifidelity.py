"""The multi-fidelity benchmark's compound splits (hold-out and leave-one-out)."""

from __future__ import annotations

import numpy as np
import pytest

from mfdisco.validator.calibration import expected_calibration_error

from tests.benchmarks import load_script


def _module():  # noqa: ANN202
    return load_script("validator/multifidelity.py")


def test_leave_one_out_scores_every_compound_once_and_never_trains_on_it() -> None:
    order = [f"c{i}" for i in range(7)]
    splits = _module().compound_splits(order, leave_one_out=True)
    assert len(splits) == len(order)
    assert sorted(key for split in splits for key in split.test) == sorted(order)
    for split in splits:
        assert len(split.test) == 1 and len(split.valid) == 1
        assert not split.test & split.valid
        assert not (split.test | split.valid) & set(split.train)
        assert len(split.train) == len(order) - 2
        assert [k for k in order if k in split.train] == list(split.train)  # the seeded order is kept for budgets


def test_hold_out_split_takes_a_fifth_for_testing_and_a_tenth_for_validation() -> None:
    order = [f"c{i}" for i in range(20)]
    (split,) = _module().compound_splits(order, leave_one_out=False)
    assert split.test == frozenset(order[:4]) and split.valid == frozenset(order[4:6])
    assert split.train == tuple(order[6:])


def test_too_few_compounds_are_refused_with_the_count() -> None:
    with pytest.raises(ValueError, match="2 compounds"):
        _module().compound_splits(["a", "b"], leave_one_out=True)


def test_leave_group_out_recalibration_fixes_an_over_confident_ensemble() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat([f"c{i}" for i in range(12)], 40)
    true_sigma = 0.2
    mean = rng.normal(0.0, true_sigma, groups.size)
    target = np.zeros(groups.size)
    std = np.full(groups.size, true_sigma / 4)  # four times too confident
    recalibrated = _module().leave_group_out_recalibrated_std(mean, std, target, groups)
    assert expected_calibration_error(mean, std, target) > 0.25
    assert expected_calibration_error(mean, recalibrated, target) < 0.05
    assert np.allclose(recalibrated, true_sigma, rtol=0.15)


def test_leave_group_out_recalibration_never_looks_at_the_group_itself() -> None:
    # one compound far off, one close: each one's std is scaled by the other's errors only
    mean = np.array([1.0, -1.0, 0.01, -0.01])
    target = np.zeros(4)
    std = np.full(4, 0.1)
    groups = ["far", "far", "near", "near"]
    recalibrated = _module().leave_group_out_recalibrated_std(mean, std, target, groups)
    assert recalibrated[0] == recalibrated[1] < 0.05  # scaled down by the near compound's small errors
    assert recalibrated[2] == recalibrated[3] > 0.5  # scaled up by the far compound's large errors
    with pytest.raises(ValueError, match="at least two compounds"):
        _module().leave_group_out_recalibrated_std(mean, std, target, ["one"] * 4)


def test_composition_linear_delta_recovers_an_additive_shift_and_uses_only_training_labels() -> None:
    """Δ = CCSD(T) − PBE per atom additive per element: the baseline predicts held-out compounds exactly."""
    from mfdisco.core import Fidelity
    from mfdisco.validator.samples import Sample

    module = _module()
    shift = {12: -0.3, 20: -0.1, 8: -0.7}  # eV/atom of Mg, Ca, O
    structures = {"mg": [12], "ca": [20], "o2": [8, 8], "mgo": [12, 8], "cao": [20, 8], "mgcao2": [12, 20, 8, 8]}
    samples = []
    for key, numbers in structures.items():
        pbe = -1.0 * len(numbers) - 0.05 * numbers[0]  # any PBE energy (eV per cell)
        ccsd_t = pbe + sum(shift[z] for z in numbers)
        for fidelity, energy in ((Fidelity.PBE, pbe), (Fidelity.CCSD_T, ccsd_t)):
            samples.append(Sample(np.array(numbers), np.zeros((len(numbers), 3)), np.eye(3) * 4.0, fidelity, energy, key=key))
    predictions = module.composition_linear_delta(samples, {"mg", "ca", "o2", "mgo"}, {"mgcao2", "cao"})
    assert set(predictions) == {"mgcao2", "cao"}
    for predicted, labelled in predictions.values():
        assert predicted == pytest.approx(labelled, abs=1e-9)
    broken = [s if not (s.key == "mgcao2" and s.fidelity == Fidelity.CCSD_T) else Sample(s.atomic_numbers, s.positions, s.cell, s.fidelity, s.energy_ev + 0.4, key=s.key) for s in samples]
    predicted, labelled = module.composition_linear_delta(broken, {"mg", "ca", "o2", "mgo"}, {"mgcao2"})["mgcao2"]
    assert labelled - predicted == pytest.approx(0.1)  # the test label is never fitted on: its 0.4 eV per cell stays an error
    assert module.composition_linear_delta(samples, {"mg", "o2", "mgo"}, {"cao"}) == {}  # no Ca in the training set: no prediction


def test_training_samples_drop_the_references_only_at_the_fidelities_left_out_and_never_train_on_held_out_compounds() -> None:
    from mfdisco.core import Fidelity
    from mfdisco.validator.samples import Sample

    module = _module()
    structures = {"mg": [12], "o2": [8, 8], "mgo": [12, 8], "cao": [20, 8], "mgcao2": [12, 20, 8, 8], "zb-mgo": [12, 8], "p-mgo": [12, 8]}
    samples = [
        Sample(np.array(numbers), np.zeros((len(numbers), 3)), np.eye(3) * 4.0, fidelity, -1.0, key=key)
        for key, numbers in structures.items()
        for fidelity in (Fidelity.PBE, Fidelity.CCSD_T)
    ]
    split = module.CompoundSplit(frozenset({"cao"}), frozenset({"mgo"}), ("mgcao2", "zb-mgo", "p-mgo"))
    elemental = {"mg", "o2"}

    def labels(references_at: set, high_only: bool = False) -> set[tuple[str, str]]:
        return {(s.key, s.fidelity.value) for s in module.training_samples(samples, split, 2, elemental, references_at, high_only)}

    everything = labels(set(Fidelity))
    assert not {key for key, _ in everything} & {"cao", "mgo"}  # test and validation compounds never trained on
    assert ("p-mgo", "pbe") in everything and ("p-mgo", "ccsd_t") not in everything  # beyond the budget of 2: PBE only
    assert {("mg", "ccsd_t"), ("o2", "ccsd_t"), ("mgcao2", "ccsd_t"), ("zb-mgo", "ccsd_t")} <= everything
    without_ccsd_t_references = labels({Fidelity.PBE, Fidelity.SCAN, Fidelity.HSE06})
    assert everything - without_ccsd_t_references == {("mg", "ccsd_t"), ("o2", "ccsd_t")}
    assert labels(set(Fidelity), high_only=True) == {item for item in everything if item[1] == "ccsd_t"}


def test_correction_on_the_pbe_label_cancels_the_pbe_heads_error() -> None:
    """A PBE head 0.3 eV/atom off that carries the same error into CCSD(T) is scored on the correction alone."""
    from mfdisco.core import Fidelity

    module = _module()
    pooled = {  # (predicted mean, std, label, compound), eV/atom
        Fidelity.PBE: [(-4.7, 0.1, -5.0, "mgo"), (-5.5, 0.1, -5.5, "cao")],
        Fidelity.CCSD_T: [(-5.1, 0.1, -5.4, "mgo"), (-5.85, 0.1, -5.9, "cao"), (-6.0, 0.1, -6.2, "sro")],
    }
    errors = module.correction_errors_on_pbe_labels(pooled)
    assert errors == pytest.approx([0.0, 0.05])  # MgO: both heads 0.3 off, correction exact; CaO: correction 0.05 off; SrO: no PBE, not scored
    assert module.correction_errors_on_pbe_labels({Fidelity.CCSD_T: pooled[Fidelity.CCSD_T]}) == []  # the CCSD(T)-only control
