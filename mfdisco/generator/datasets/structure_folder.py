"""A folder (searched recursively) or a single file of CIF / POSCAR / extended-XYZ structures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from mfdisco.core import StructureFormatError, detect_format, read_crystals
from mfdisco.generator.datasets.records import CrystalRecord, DatasetStream, Rejection

__all__ = ["read_structure_folder", "read_structure_file"]

logger = logging.getLogger(__name__)


def read_structure_folder(folder: Path, name: str | None = None) -> DatasetStream:
    """Stream every structure file under ``folder`` (sorted, recursive).

    Files whose names are not a structure format (see
    :func:`mfdisco.core.detect_format`) are skipped and logged; a file that cannot be
    read becomes a rejection naming it. A file holding several structures (multi-block
    CIF, multi-frame extxyz) gives one record per structure, ``path#k``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a directory")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and detect_format(p))
    skipped = sum(1 for p in folder.rglob("*") if p.is_file() and not detect_format(p))
    if skipped:
        logger.info("%s: skipped %d files that are not CIF, POSCAR or extxyz", folder, skipped)
    dataset = name or folder.name
    return DatasetStream(dataset, _read_files(files, folder, dataset), len(files))


def read_structure_file(path: Path, name: str | None = None) -> DatasetStream:
    """Stream the structures of one CIF / POSCAR / extxyz file."""
    path = Path(path)
    return DatasetStream(name or path.stem, _read_files([path], path.parent, name or path.stem), 1)


def _read_files(files: list[Path], root: Path, dataset: str) -> Iterator[CrystalRecord | Rejection]:
    for path in files:
        relative = str(path.relative_to(root))
        try:
            crystals = read_crystals(path)
        except (StructureFormatError, OSError) as error:
            yield Rejection(relative, str(error).removeprefix(f"{path}: "))
            continue
        for index, crystal in enumerate(crystals):
            source_id = relative if len(crystals) == 1 else f"{relative}#{index}"
            yield CrystalRecord(crystal, dataset, source_id, {"format": detect_format(path)})
