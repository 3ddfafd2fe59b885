"""Types every folder of mfdisco shares: Crystal, Fidelity, units, structure I/O.

This package imports nothing else of the project.
"""

from mfdisco.core.crystal import MIN_VOLUME_A3, Crystal, atomic_number, element_symbol, element_symbols
from mfdisco.core.errors import InvalidCrystalError, MfdiscoError, StructureFormatError
from mfdisco.core.fidelity import Fidelity
from mfdisco.core.formation import formation_energy_per_atom
from mfdisco.core.label import LABEL_STATUSES, Label, LabelStatus
from mfdisco.core.prediction import Prediction
from mfdisco.core.hashing import HASH_VERSION, canonical_hash, primitive_standard_cell
from mfdisco.core.structure_io import (
    STRUCTURE_FORMATS,
    crystal_to_string,
    crystals_from_cif,
    detect_format,
    read_crystals,
    write_crystal,
)
from mfdisco.core.units import (
    ANGSTROM_TO_BOHR,
    BOHR_TO_ANGSTROM,
    EV_TO_HARTREE,
    EV_TO_MEV,
    HARTREE_TO_EV,
    KCAL_PER_MOL_TO_EV,
)
from mfdisco.core.validity import (
    MIN_DISTANCE_A,
    check_structure,
    closest_pair,
    tightest_contact,
    is_structurally_valid,
    structural_problems,
)

__all__ = [
    "ANGSTROM_TO_BOHR",
    "BOHR_TO_ANGSTROM",
    "Crystal",
    "EV_TO_HARTREE",
    "EV_TO_MEV",
    "Fidelity",
    "HARTREE_TO_EV",
    "HASH_VERSION",
    "InvalidCrystalError",
    "KCAL_PER_MOL_TO_EV",
    "LABEL_STATUSES",
    "Label",
    "LabelStatus",
    "MIN_DISTANCE_A",
    "MIN_VOLUME_A3",
    "MfdiscoError",
    "Prediction",
    "STRUCTURE_FORMATS",
    "StructureFormatError",
    "atomic_number",
    "element_symbols",
    "formation_energy_per_atom",
    "canonical_hash",
    "check_structure",
    "closest_pair",
    "tightest_contact",
    "crystal_to_string",
    "crystals_from_cif",
    "detect_format",
    "element_symbol",
    "is_structurally_valid",
    "primitive_standard_cell",
    "read_crystals",
    "structural_problems",
    "write_crystal",
]
