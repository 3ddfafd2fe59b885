"""CDVAE/DiffCSP dataset CSVs: one CIF string per row (``material_id, cif, ...``).

The layout of the public MP-20, Perov-5 and Carbon-24 splits: a ``cif`` column with
the structure, a ``material_id`` column, and property columns (Perov-5:
``heat_all, heat_ref`` in eV/atom, ``dir_gap, ind_gap`` in eV; Carbon-24:
``energy_per_atom`` in eV/atom). An unnamed leading index column is ignored.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from mfdisco.core import StructureFormatError, crystals_from_cif
from mfdisco.generator.datasets.records import CrystalRecord, DatasetStream, PropertyValue, Rejection

__all__ = ["read_cdvae_csv"]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # CIF strings are long fields


def read_cdvae_csv(path: Path, name: str | None = None) -> DatasetStream:
    """Stream the crystals of a CDVAE-layout CSV file.

    Args:
        path: the CSV file.
        name: dataset name for the records; default: the parent folder's name
            (``perov_5/val.csv`` → ``perov_5``).

    Raises:
        StructureFormatError: the file has no ``cif`` column (named in the message).
    """
    path = Path(path)
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
        total = sum(1 for _ in csv.reader(handle))
    if not header or "cif" not in [h.strip() for h in header]:
        raise StructureFormatError(f"{path}: no 'cif' column in the header (got {header}); not a CDVAE-layout CSV")
    dataset = name or path.parent.name or path.stem
    return DatasetStream(dataset, _rows(path, dataset), total)


def _rows(path: Path, dataset: str) -> Iterator[CrystalRecord | Rejection]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=1):
            material_id = (row.get("material_id") or "").strip() or None
            where = f"{path.name} row {number}" + (f" (material_id {material_id})" if material_id else "")
            cif = row.get("cif")
            if cif is None or not cif.strip():
                yield Rejection(where, "no CIF in column 'cif'")
                continue
            try:
                crystals = crystals_from_cif(cif, where)
            except StructureFormatError as error:
                yield Rejection(where, str(error).removeprefix(f"{where}: "))
                continue
            if len(crystals) != 1:
                yield Rejection(where, f"the CIF holds {len(crystals)} structures, expected 1")
                continue
            properties = {
                key.strip(): _scalar(value)
                for key, value in row.items()
                if key and key.strip() and key.strip() not in {"cif", "material_id"}
            }
            yield CrystalRecord(crystals[0], dataset, material_id or f"row {number}", properties)


def _scalar(text: str | None) -> PropertyValue:
    if text is None or text.strip() == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text.strip()
