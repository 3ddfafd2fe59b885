"""Dataset import: continues past bad rows, reports why, stores each batch whole or not at all."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mfdisco.core import Crystal, crystal_to_string
from mfdisco.db import count_structures
from mfdisco.generator.datasets import DatasetStream, builtin_prototypes, open_dataset, read_builtin
from mfdisco.platform import import_dataset


def test_import_reports_new_duplicates_and_rejects(engine: Engine, tmp_path: Path, rocksalt_mgo: Crystal) -> None:
    path = tmp_path / "set.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["material_id", "cif"])
        writer.writerow(["a", crystal_to_string(rocksalt_mgo, "cif")])
        writer.writerow(["b", ""])
        writer.writerow(["c", crystal_to_string(rocksalt_mgo, "poscar")])  # not a CIF
        writer.writerow(["d", crystal_to_string(Crystal(rocksalt_mgo.lattice, rocksalt_mgo.frac_coords + 0.25, rocksalt_mgo.atomic_numbers), "cif")])
    progress: list[int] = []
    report = import_dataset(engine, open_dataset(path, cache_dir=tmp_path), batch_size=2, on_progress=progress.append)
    assert (report.read, report.inserted, report.duplicates, report.rejected) == (4, 1, 1, 2)
    assert progress == [2, 2]
    assert dict(report.rejection_reasons()) == {"no CIF in column 'cif'": 1, "malformed CIF": 1}
    assert count_structures(engine) == 1


def test_reimporting_the_builtin_set_finds_only_duplicates(engine: Engine) -> None:
    first = import_dataset(engine, read_builtin(["Mg", "Ti", "O"]))
    second = import_dataset(engine, read_builtin(["Mg", "Ti", "O"]))
    assert first.inserted == second.duplicates == first.read > 10
    assert second.inserted == 0


def test_a_batch_that_fails_is_not_half_written(engine: Engine) -> None:
    records = builtin_prototypes(["Mg", "Ti", "O"])

    def items():  # noqa: ANN202
        yield from records[:4]
        raise RuntimeError("reader crashed in the second batch")

    with pytest.raises(RuntimeError):
        import_dataset(engine, DatasetStream("x", items(), None), batch_size=3)
    assert count_structures(engine) == 3  # the first batch is stored, nothing of the second
