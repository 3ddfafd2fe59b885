"""Open any supported dataset from a path, a URL or the built-in set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from mfdisco.core import StructureFormatError, detect_format
from mfdisco.generator.datasets.builtin import DEFAULT_ELEMENTS, read_builtin
from mfdisco.generator.datasets.cdvae_csv import read_cdvae_csv
from mfdisco.generator.datasets.fetch import resolve_source
from mfdisco.generator.datasets.mgmno import read_mgmno
from mfdisco.generator.datasets.records import DatasetStream
from mfdisco.generator.datasets.structure_folder import read_structure_file, read_structure_folder

__all__ = ["DatasetFormat", "DATASET_FORMATS", "open_dataset", "detect_dataset_format"]

DatasetFormat = Literal["auto", "cdvae-csv", "folder", "structure-file", "mgmno", "builtin"]
DATASET_FORMATS: tuple[str, ...] = ("auto", "cdvae-csv", "folder", "structure-file", "mgmno", "builtin")


def detect_dataset_format(path: Path) -> DatasetFormat:
    """Tell the dataset format of a local path.

    A directory is a folder of structure files, ``*.csv`` a CDVAE-layout CSV, ``*.npy``
    the Mg-Mn-O array, a CIF / POSCAR / extxyz name a single structure file.

    Raises:
        StructureFormatError: naming the path when none applies.
    """
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "cdvae-csv"
    if suffix == ".npy":
        return "mgmno"
    if detect_format(path):
        return "structure-file"
    raise StructureFormatError(
        f"{path}: cannot tell the dataset format; expected a folder, a .csv (CDVAE layout), a .npy (Mg-Mn-O) "
        "or a CIF/POSCAR/extxyz file, or pass the format explicitly"
    )


def open_dataset(
    source: str | Path | None,
    fmt: DatasetFormat = "auto",
    *,
    cache_dir: Path,
    name: str | None = None,
    elements: Sequence[str] = DEFAULT_ELEMENTS,
) -> DatasetStream:
    """Open a dataset for streaming.

    Args:
        source: a local path or an ``http(s)://`` / ``file://`` URL; None with
            ``fmt="builtin"``.
        fmt: the format, or ``"auto"`` to tell it from the path.
        cache_dir: where downloaded files are kept.
        name: dataset name for the records (default: derived from the path).
        elements: element list of the built-in set.

    Raises:
        FileNotFoundError, DownloadError, StructureFormatError: naming the source.
    """
    if fmt == "builtin":
        return read_builtin(elements)
    if source is None:
        raise ValueError("a dataset path or URL is needed unless the format is 'builtin'")
    path = resolve_source(source, cache_dir)
    if fmt == "auto":
        fmt = detect_dataset_format(path)
    if fmt == "cdvae-csv":
        return read_cdvae_csv(path, name)
    if fmt == "folder":
        return read_structure_folder(path, name)
    if fmt == "structure-file":
        return read_structure_file(path, name)
    if fmt == "mgmno":
        return read_mgmno(path, name=name or "mgmno")
    raise ValueError(f"unknown dataset format {fmt!r}; expected one of {', '.join(DATASET_FORMATS)}")
