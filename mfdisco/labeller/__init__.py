"""PySCF labelling at PBE / SCAN / HSE06 / CCSD(T): settings, cost estimate, isolated runs, storage.

``label(crystal, fidelity, settings) -> Label`` is the pure function of DESIGN.md's
Labeller protocol; ``label_isolated`` runs it in a child process with timeout and
memory cap; ``label_structure`` stores labels and never computes one twice.
"""

from mfdisco.labeller.cost import CostEstimate, estimate_cost, frozen_orbitals, limit_problem
from mfdisco.labeller.isolation import label_isolated
from mfdisco.labeller.label import failed_label, label, software_versions
from mfdisco.labeller.service import label_structure
from mfdisco.labeller.settings import (
    DEFAULT_MAGMOMS,
    XC_FUNCTIONALS,
    LabelSettings,
    UnsupportedElementError,
    default_settings,
    resolve_basis,
    settings_hash,
)

__all__ = [
    "DEFAULT_MAGMOMS",
    "XC_FUNCTIONALS",
    "CostEstimate",
    "LabelSettings",
    "UnsupportedElementError",
    "default_settings",
    "estimate_cost",
    "failed_label",
    "frozen_orbitals",
    "label",
    "label_isolated",
    "label_structure",
    "limit_problem",
    "resolve_basis",
    "settings_hash",
    "software_versions",
]
