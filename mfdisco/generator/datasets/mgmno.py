"""The Mg-Mn-O crystal array of the composition-conditioned crystal GAN (Kim et al. 2020).

Layout (one ``[30, 3]`` float64 matrix per structure):
    row 0: lattice lengths a, b, c divided by 30 (Å);
    row 1: lattice angles α, β, γ divided by 180 (degrees);
    rows 2-9: up to 8 Mg, rows 10-17: up to 8 Mn, rows 18-29: up to 12 O.
An all-zero row is an absent atom; a present atom's fractional coordinate f is stored
as s = (10 f + 2.5) / 15, hence f = (15 s - 2.5) / 10. The first 1,253 rows are unique
structures, the remaining ones supercells doubled along one axis.

Defect of the published array, repaired here: in the doubled rows the supercell's
sites were written in the original site order (first copy, then second copy) into the
Mg, Mn and O slots by count, so their species are scrambled (e.g. an Mg slot holds the
B-site Mn position). The correct species of a doubled row are the site species of its
unique row (same name) repeated twice; with that repair each of the 1,374 doubled rows
has the canonical hash of its unique row, so an import finds them as duplicates.
Without a names file the doubled rows cannot be repaired and are rejected.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mfdisco.core import Crystal, InvalidCrystalError, StructureFormatError
from mfdisco.generator.datasets.records import CrystalRecord, DatasetStream, PropertyValue, Rejection

__all__ = ["read_mgmno", "decode_mgmno_row", "MGMNO_UNIQUE_ROWS"]

#: Rows before this index are unique structures; later rows are doubled supercells.
MGMNO_UNIQUE_ROWS: int = 1253
_SPECIES_ROWS: tuple[tuple[str, slice], ...] = (("Mg", slice(2, 10)), ("Mn", slice(10, 18)), ("O", slice(18, 30)))
_NAMES_FILE = "unique_sc_mgmno_name_list"


def decode_mgmno_row(row: np.ndarray) -> Crystal:
    """Decode one ``[30, 3]`` matrix into a crystal (see the module docstring)."""
    from pymatgen.core import Lattice

    row = np.asarray(row, dtype=float)
    if row.shape != (30, 3):
        raise InvalidCrystalError(f"expected a 30x3 matrix, got shape {row.shape}")
    lengths = row[0] * 30.0
    angles = row[1] * 180.0
    if not np.all(np.isfinite(row)) or np.any(lengths <= 0) or np.any(angles <= 0) or np.any(angles >= 180):
        raise InvalidCrystalError(f"invalid lattice: lengths {lengths.round(4).tolist()} Å, angles {angles.round(3).tolist()}°")
    lattice = Lattice.from_parameters(*lengths, *angles).matrix
    species: list[str] = []
    coords: list[np.ndarray] = []
    for symbol, rows in _SPECIES_ROWS:
        for stored in row[rows]:
            if np.all(stored == 0.0):
                continue
            species.append(symbol)
            coords.append((15.0 * stored - 2.5) / 10.0)
    if not species:
        raise InvalidCrystalError("no atoms (every site row is zero)")
    return Crystal.from_species(lattice, species, np.array(coords))


def read_mgmno(path: Path, names_path: Path | None = None, name: str = "mgmno") -> DatasetStream:
    """Stream the Mg-Mn-O array.

    Args:
        path: the ``.npy`` file, shape ``[n, 30, 3]``.
        names_path: pickled list of names, one per row; default: the file
            ``unique_sc_mgmno_name_list`` beside ``path`` when present. Only a list of
            strings is unpickled (any other object is refused).
        name: dataset name of the records.

    Raises:
        StructureFormatError: the array has the wrong shape, or the names file is not
            a list of strings of the same length.
    """
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise StructureFormatError(f"{path}: not a NumPy array file ({error})") from None
    if data.ndim != 3 or data.shape[1:] != (30, 3):
        raise StructureFormatError(f"{path}: expected an array of shape (n, 30, 3), got {data.shape}")
    names_path = names_path or (path.parent / _NAMES_FILE)
    names = _load_names(names_path) if names_path.is_file() else None
    if names is not None and len(names) != data.shape[0]:
        raise StructureFormatError(f"{names_path}: {len(names)} names for {data.shape[0]} rows of {path}")
    return DatasetStream(name, _rows(data, names, name), int(data.shape[0]))


def _rows(data: np.ndarray, names: list[str] | None, dataset: str) -> Iterator[CrystalRecord | Rejection]:
    labels = [Path(n).name for n in names] if names else [f"row {i}" for i in range(data.shape[0])]
    unique_row_of = {label: i for i, label in enumerate(labels[:MGMNO_UNIQUE_ROWS])} if names else {}
    for index, row in enumerate(data):
        label = labels[index]
        where = f"{dataset} row {index} ({label})"
        doubled = index >= MGMNO_UNIQUE_ROWS
        try:
            crystal = decode_mgmno_row(row)
            if doubled:
                crystal = _repair_doubled(crystal, data, unique_row_of.get(label))
        except InvalidCrystalError as error:
            yield Rejection(where, str(error))
            continue
        properties: dict[str, PropertyValue] = {"row": index, "doubled_supercell": doubled}
        if names:
            properties["name"] = label
            properties["prototype_id"] = label.split("_")[0]
        yield CrystalRecord(crystal, dataset, label if not doubled else f"{label} (doubled, row {index})", properties)


def _repair_doubled(scrambled: Crystal, data: np.ndarray, unique_row: int | None) -> Crystal:
    """Give a doubled row the species of its unique row, repeated twice (module docstring)."""
    if unique_row is None:
        raise InvalidCrystalError("doubled supercell with scrambled species and no unique row of the same name to repair it from")
    original = decode_mgmno_row(data[unique_row])
    if scrambled.num_sites != 2 * original.num_sites:
        raise InvalidCrystalError(
            f"doubled supercell has {scrambled.num_sites} sites, not twice the {original.num_sites} of row {unique_row}"
        )
    return Crystal(scrambled.lattice, scrambled.frac_coords, np.tile(original.atomic_numbers, 2))


class _StringListUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global: a list of str needs none."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only a list of strings is expected")


def _load_names(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            names = _StringListUnpickler(handle).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise StructureFormatError(f"{path}: not a pickled list of names ({error})") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise StructureFormatError(f"{path}: expected a pickled list of strings, got {type(names).__name__}")
    return names
