"""Dataset loaders: CDVAE/DiffCSP CSVs, structure folders, the Mg-Mn-O array, the built-in set."""

from mfdisco.generator.datasets.builtin import DEFAULT_ELEMENTS, builtin_prototypes, read_builtin, shannon_radius
from mfdisco.generator.datasets.cdvae_csv import read_cdvae_csv
from mfdisco.generator.datasets.fetch import DownloadError, is_url, resolve_source
from mfdisco.generator.datasets.mgmno import MGMNO_UNIQUE_ROWS, decode_mgmno_row, read_mgmno
from mfdisco.generator.datasets.records import (
    CrystalRecord,
    DatasetStream,
    PropertyValue,
    Rejection,
    screen_structures,
)
from mfdisco.generator.datasets.sources import DATASET_FORMATS, DatasetFormat, detect_dataset_format, open_dataset
from mfdisco.generator.datasets.structure_folder import read_structure_file, read_structure_folder

__all__ = [
    "DATASET_FORMATS",
    "DEFAULT_ELEMENTS",
    "MGMNO_UNIQUE_ROWS",
    "CrystalRecord",
    "DatasetFormat",
    "DatasetStream",
    "DownloadError",
    "PropertyValue",
    "Rejection",
    "builtin_prototypes",
    "decode_mgmno_row",
    "detect_dataset_format",
    "is_url",
    "open_dataset",
    "read_builtin",
    "read_cdvae_csv",
    "read_mgmno",
    "read_structure_file",
    "read_structure_folder",
    "resolve_source",
    "screen_structures",
    "shannon_radius",
]
