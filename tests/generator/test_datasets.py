"""Dataset loaders: CDVAE CSV (path and URL), structure folders, the Mg-Mn-O array; their bad inputs."""

from __future__ import annotations

import csv
import http.server
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mfdisco.core import Crystal, StructureFormatError, crystal_to_string, write_crystal
from mfdisco.generator.datasets import (
    MGMNO_UNIQUE_ROWS,
    CrystalRecord,
    Rejection,
    decode_mgmno_row,
    open_dataset,
    read_cdvae_csv,
    read_mgmno,
    screen_structures,
)


def _split(items) -> tuple[list[CrystalRecord], list[Rejection]]:  # noqa: ANN001
    items = list(items)
    return [i for i in items if isinstance(i, CrystalRecord)], [i for i in items if isinstance(i, Rejection)]


@pytest.fixture
def cdvae_csv(tmp_path: Path, rocksalt_mgo: Crystal, low_symmetry: Crystal) -> Path:
    """A CDVAE-layout CSV with two good rows and six bad ones."""
    overlapping = Crystal.from_species(np.eye(3) * 4, ["Mg", "O"], [[0, 0, 0], [0.05, 0, 0]])
    unknown = crystal_to_string(rocksalt_mgo, "cif").replace(" Mg ", " Qq ").replace("Mg0", "Qq0")
    cubic = crystal_to_string(Crystal.from_species(np.eye(3) * 4, ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]), "cif")
    singular = cubic.replace("_cell_length_a   4.00000000", "_cell_length_a   0.0")
    not_a_number = cubic.replace("_cell_angle_alpha   90.00000000", "_cell_angle_alpha   nan")
    assert singular != cubic and not_a_number != cubic
    rows = [
        ("mp-1", crystal_to_string(rocksalt_mgo, "cif"), "-3.1"),
        ("mp-2", "", "1.0"),
        ("mp-3", "data_broken\n_cell_length_a 4\n", "2.0"),
        ("mp-4", crystal_to_string(overlapping, "cif"), "0.5"),
        ("mp-5", unknown, "0.1"),
        ("mp-6", crystal_to_string(low_symmetry, "cif"), "nan"),
        ("mp-7", singular, "0.2"),
        ("mp-8", not_a_number, "0.3"),
    ]
    path = tmp_path / "toy" / "val.csv"
    path.parent.mkdir()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "material_id", "cif", "heat_ref"])
        for index, row in enumerate(rows):
            writer.writerow([index, *row])
    return path


def test_cdvae_csv_reads_good_rows_and_rejects_bad_ones_by_row(cdvae_csv: Path) -> None:
    stream = read_cdvae_csv(cdvae_csv)
    assert stream.name == "toy" and stream.total == 8
    records, rejections = _split(screen_structures(stream.items, 0.5))
    assert [r.source_id for r in records] == ["mp-1", "mp-6"]
    assert records[0].properties == {"heat_ref": -3.1}
    assert records[0].crystal.reduced_formula == "MgO"
    reasons = {r.where: r.reason for r in rejections}
    assert reasons["val.csv row 2 (material_id mp-2)"] == "no CIF in column 'cif'"
    assert "malformed CIF" in reasons["val.csv row 3 (material_id mp-3)"]
    assert "overlapping atoms" in reasons["toy mp-4"]
    assert "unknown element" in reasons["val.csv row 5 (material_id mp-5)"]
    assert "Singular matrix" in reasons["val.csv row 7 (material_id mp-7)"]
    assert "non-finite" in reasons["val.csv row 8 (material_id mp-8)"]


def test_csv_without_cif_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("material_id,structure\n1,abc\n")
    with pytest.raises(StructureFormatError, match="no 'cif' column"):
        read_cdvae_csv(path)


@pytest.fixture
def http_folder(cdvae_csv: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve the CSV's folder on 127.0.0.1; yields the base URL and the request log."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, directory=str(cdvae_csv.parent), **kwargs)

        def log_message(self, *args) -> None:  # noqa: ANN002
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()


def test_csv_by_url_is_downloaded_once_and_cached(http_folder, tmp_path: Path) -> None:  # noqa: ANN001
    base, requests = http_folder
    cache = tmp_path / "cache"
    first = open_dataset(f"{base}/val.csv", cache_dir=cache, name="toy")
    second = open_dataset(f"{base}/val.csv", cache_dir=cache, name="toy")
    assert len(_split(first.items)[0]) == len(_split(second.items)[0]) == 3  # mp-4 is screened later
    assert len(requests) == 1
    assert not list(cache.glob(".partial-*"))


def test_unreachable_url_names_the_url(tmp_path: Path) -> None:
    from mfdisco.generator.datasets import DownloadError

    with pytest.raises(DownloadError, match="127.0.0.1:9/none.csv"):
        open_dataset("http://127.0.0.1:9/none.csv", cache_dir=tmp_path)


def test_folder_of_structure_files(tmp_path: Path, rocksalt_mgo: Crystal, low_symmetry: Crystal) -> None:
    folder = tmp_path / "structures"
    (folder / "sub").mkdir(parents=True)
    write_crystal(rocksalt_mgo, folder / "mgo.cif")
    write_crystal(low_symmetry, folder / "sub" / "POSCAR")
    write_crystal(low_symmetry, folder / "sub" / "frames.extxyz")
    (folder / "broken.cif").write_text("data_x\n")
    (folder / "README.txt").write_text("not a structure")
    stream = open_dataset(folder, cache_dir=tmp_path)
    records, rejections = _split(stream.items)
    assert stream.total == 4
    assert sorted(r.source_id for r in records) == ["mgo.cif", "sub/POSCAR", "sub/frames.extxyz"]
    assert [r.where for r in rejections] == ["broken.cif"]


def test_unknown_dataset_path_format(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_text("x")
    with pytest.raises(StructureFormatError, match="cannot tell the dataset format"):
        open_dataset(path, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        open_dataset(tmp_path / "missing.csv", cache_dir=tmp_path)


def _encode(crystal: Crystal) -> np.ndarray:
    """Encode a Mg-Mn-O crystal in the array layout (inverse of the decoder)."""
    row = np.zeros((30, 3))
    a, b, c, alpha, beta, gamma = crystal.lattice_parameters
    row[0] = np.array([a, b, c]) / 30.0
    row[1] = np.array([alpha, beta, gamma]) / 180.0
    offsets = {"Mg": 2, "Mn": 10, "O": 18}
    for symbol, f in zip(crystal.species, crystal.frac_coords, strict=True):
        row[offsets[symbol]] = (10.0 * f + 2.5) / 15.0
        offsets[symbol] += 1
    return row


def test_mgmno_decoding_inverts_the_encoding(low_symmetry: Crystal) -> None:
    order = np.argsort([{"Mg": 0, "Mn": 1, "O": 2}[s] for s in low_symmetry.species], kind="stable")
    ordered = Crystal(low_symmetry.lattice, low_symmetry.frac_coords[order], low_symmetry.atomic_numbers[order])
    decoded = decode_mgmno_row(_encode(ordered))
    assert decoded.canonical_hash() == ordered.canonical_hash()
    assert np.allclose(decoded.lattice_parameters, ordered.lattice_parameters)


def test_mgmno_bad_files(tmp_path: Path) -> None:
    wrong_shape = tmp_path / "wrong.npy"
    np.save(wrong_shape, np.zeros((3, 29, 3)))
    with pytest.raises(StructureFormatError, match=r"shape \(n, 30, 3\)"):
        read_mgmno(wrong_shape)
    data = tmp_path / "ok.npy"
    np.save(data, np.zeros((2, 30, 3)))
    evil = tmp_path / "names"
    evil.write_bytes(pickle.dumps([Path("x")]))  # needs a global: refused
    with pytest.raises(StructureFormatError, match="not a pickled list of names"):
        read_mgmno(data, names_path=evil)
    records, rejections = _split(read_mgmno(data).items)
    assert not records and len(rejections) == 2 and "invalid lattice" in rejections[0].reason


def test_mgmno_shared_array_doubled_rows_are_repaired_duplicates(shared_data: Path) -> None:
    stream = read_mgmno(shared_data / "mgmno" / "unique_sc_mgmno.npy")
    records, rejections = _split(stream.items)
    assert not rejections and len(records) == 2627
    unique = {r.crystal.canonical_hash() for r in records[:MGMNO_UNIQUE_ROWS]}
    assert len(unique) == MGMNO_UNIQUE_ROWS
    doubled = records[MGMNO_UNIQUE_ROWS:]
    assert all(r.properties["doubled_supercell"] for r in doubled)
    assert all(r.crystal.canonical_hash() in unique for r in doubled)
    assert sum(r.crystal.reduced_formula == "Mg2MnO4" for r in records[:MGMNO_UNIQUE_ROWS]) == 93  # data README
