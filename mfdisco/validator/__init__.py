"""Multi-fidelity equivariant potential (mace-torch), training, ensembles, calibration, ASE calculator.

The ``Potential`` protocol of DESIGN.md is its contract with the active loop. Modules
that import torch and MACE load on first use of their names.
"""

from __future__ import annotations

from mfdisco.core.plugins import lazy_exports

__all__ = [
    "PotentialConfig",
    "Sample",
    "samples_from_labels",
    "load_rmd17",
    "training_set_hash",
    "MultiFidelityMACE",
    "train_potential",
    "evaluate",
    "predict_samples",
    "MaceEnsemble",
    "train_ensemble",
    "save_ensemble",
    "load_ensemble",
    "record_model",
    "MaceEnsembleCalculator",
    "relax",
    "Potential",
    "MacePotential",
    "potential_backend",
    "expected_calibration_error",
    "fit_recalibration",
]

_WHERE = {
    "PotentialConfig": "config",
    "Sample": "samples",
    "samples_from_labels": "samples",
    "load_rmd17": "samples",
    "training_set_hash": "samples",
    "MultiFidelityMACE": "model",
    "train_potential": "training",
    "evaluate": "training",
    "predict_samples": "training",
    "MaceEnsemble": "ensemble",
    "train_ensemble": "ensemble",
    "save_ensemble": "checkpoint",
    "load_ensemble": "checkpoint",
    "record_model": "checkpoint",
    "MaceEnsembleCalculator": "calculator",
    "relax": "relax",
    "Potential": "potential",
    "MacePotential": "potential",
    "potential_backend": "potential",
    "expected_calibration_error": "calibration",
    "fit_recalibration": "recalibration",
}


__getattr__ = lazy_exports('mfdisco.validator', _WHERE)
