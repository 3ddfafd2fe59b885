"""Structures in the database: idempotent inserts, round trips, concurrency, atomic batches."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from mfdisco.core import Crystal, crystals_from_cif, crystal_to_string
from mfdisco.db import (
    NewStructure,
    Structure,
    add_structures,
    count_structures,
    get_structure,
    make_engine,
    read_session,
    structure_counts,
    structure_to_crystal,
)


def test_round_trip_crystal_pymatgen_ase_cif_database(engine: Engine, low_symmetry: Crystal) -> None:
    via_pymatgen = Crystal.from_pymatgen(low_symmetry.to_pymatgen())
    via_ase = Crystal.from_ase(via_pymatgen.to_ase())
    (via_cif,) = crystals_from_cif(crystal_to_string(via_ase, "cif"))
    (structure_id,) = add_structures(engine, [NewStructure(via_cif, "test", "x", {"e": 1.5})]).ids
    row = get_structure(engine, structure_id)
    back = structure_to_crystal(row)
    assert back.canonical_hash() == low_symmetry.canonical_hash() == row.canonical_hash
    assert np.allclose(back.lattice_parameters, low_symmetry.lattice_parameters, atol=1e-6)
    assert (row.formula, row.elements, row.nsites, row.n_elements) == ("Mg2Mn2O3", "Mg-Mn-O", 7, 3)
    assert row.properties == {"e": 1.5}
    assert row.volume == pytest.approx(low_symmetry.volume)


def test_duplicates_in_database_and_in_batch_are_stored_once(engine: Engine, rocksalt_mgo: Crystal, low_symmetry: Crystal) -> None:
    shifted = Crystal(rocksalt_mgo.lattice, rocksalt_mgo.frac_coords + 0.3, rocksalt_mgo.atomic_numbers)
    first = add_structures(engine, [NewStructure(rocksalt_mgo, "a", "1"), NewStructure(shifted, "a", "2")])
    assert first.inserted == [True, False] and first.ids[0] == first.ids[1]
    second = add_structures(engine, [NewStructure(low_symmetry, "b"), NewStructure(rocksalt_mgo, "b")])
    assert second.inserted == [True, False] and second.ids[1] == first.ids[0]
    assert (second.n_inserted, second.n_duplicates) == (1, 1)
    assert count_structures(engine) == 2
    assert get_structure(engine, first.ids[0]).source == "a"  # the first provenance is kept
    assert [row[:2] for row in structure_counts(engine)] == [("a", 1), ("b", 1)]


def test_non_finite_properties_are_stored_as_null(engine: Engine, rocksalt_mgo: Crystal) -> None:
    (structure_id,) = add_structures(engine, [NewStructure(rocksalt_mgo, "a", properties={"gap": float("nan"), "n": np.int64(3)})]).ids
    assert get_structure(engine, structure_id).properties == {"gap": None, "n": 3}


def test_a_failing_batch_stores_nothing(engine: Engine, rocksalt_mgo: Crystal, low_symmetry: Crystal) -> None:
    add_structures(engine, [NewStructure(rocksalt_mgo, "a")])
    bad = NewStructure(low_symmetry, None)  # type: ignore[arg-type] - source is NOT NULL
    with pytest.raises(IntegrityError):
        add_structures(engine, [NewStructure(Crystal(low_symmetry.lattice * 1.1, low_symmetry.frac_coords, low_symmetry.atomic_numbers), "a"), bad])
    assert count_structures(engine) == 1


def _insert_same_structure(url: str, barrier, results) -> None:  # noqa: ANN001 - multiprocessing objects
    from mfdisco.generator.datasets import prototypes

    engine = make_engine(url)
    crystal = prototypes.spinel("Mg", "Al", "O", 1.923, 1.925)
    barrier.wait()
    for _ in range(5):
        results.append(add_structures(engine, [NewStructure(crystal, "race")]).n_inserted)
    engine.dispose()


def test_two_processes_inserting_the_same_structure_leave_one_row(engine: Engine, db_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier, results = manager.Barrier(2), manager.list()
        workers = [context.Process(target=_insert_same_structure, args=(db_url, barrier, results)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert [w.exitcode for w in workers] == [0, 0]
        assert sorted(results) == [0] * 9 + [1]
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Structure).where(Structure.source == "race")) == 1
