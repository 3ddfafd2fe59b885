"""Benchmark: import Perov-5 (3,787 structures) into SQLite and PostgreSQL.

Prints, per backend, structures per second, duplicates found and rejects, for a first
import into an empty database and for a second import of the same file (every
structure is then a duplicate). Also prints where the time goes: CIF parsing and
canonical hashing, measured on their own.

    .venv/bin/python benchmarks/import_perov5.py [--data PATH] [--pg-url URL]

PostgreSQL is skipped (and said so) when the server does not answer; a temporary
database is created on it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from mfdisco.db import make_engine, upgrade
from mfdisco.generator.datasets import CrystalRecord, open_dataset
from mfdisco.platform import import_dataset

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "perov_5" / "val.csv"
DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/test"


def _import_twice(url: str, data: Path, cache: Path) -> list[tuple[str, object]]:
    engine = make_engine(url)
    upgrade(engine)
    rows = []
    for label in ("first import", "second import"):
        report = import_dataset(engine, open_dataset(data, cache_dir=cache))
        rows.append((label, report))
    engine.dispose()
    return rows


def _print(backend: str, rows: list[tuple[str, object]]) -> None:
    for label, report in rows:
        print(
            f"{backend:<11} {label:<14} read {report.read:>5}  new {report.inserted:>5}  "
            f"duplicates {report.duplicates:>5}  rejected {report.rejected:>3}  "
            f"{report.seconds:6.1f} s  {report.rate:6.1f} structures/s"
        )
        for reason, count in report.rejection_reasons():
            print(f"{'':<27}rejected {count} x {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="an existing database to create a temporary one beside")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: not found (pass --data)")
    cache = Path(tempfile.mkdtemp())

    start = time.perf_counter()
    records = [item for item in open_dataset(args.data, cache_dir=cache).items if isinstance(item, CrystalRecord)]
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    hashes = {record.crystal.canonical_hash() for record in records}
    hash_s = time.perf_counter() - start
    print(f"data: {args.data} ({len(records)} parsed, {len(hashes)} distinct canonical hashes)")
    print(f"CIF parsing: {parse_s:.1f} s ({len(records) / parse_s:.0f}/s); canonical hash: {hash_s:.1f} s ({len(records) / hash_s:.0f}/s)")

    with tempfile.TemporaryDirectory() as folder:
        _print("sqlite", _import_twice(f"sqlite:///{folder}/bench.db", args.data, cache))

    name = f"mfdisco_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"postgresql skipped: {args.pg_url} does not answer ({str(error.orig).strip().splitlines()[0]})")
        return
    try:
        _print("postgresql", _import_twice(args.pg_url.rsplit("/", 1)[0] + f"/{name}", args.data, cache))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
