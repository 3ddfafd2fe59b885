"""Shared fixtures: data paths, SQLite and PostgreSQL databases, small crystals."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mfdisco.core import Crystal

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MFDISCO_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_ADMIN_URL = os.environ.get("MFDISCO_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark data folder beside the project; tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (set MFDISCO_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded random numbers."""
    return np.random.default_rng(20261122)


@pytest.fixture
def rocksalt_mgo() -> Crystal:
    """MgO rocksalt, conventional cubic cell (8 atoms), a = 4.21 Å."""
    a = 4.21
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    frac = np.vstack([fcc, fcc + [0.5, 0, 0]])
    return Crystal.from_species(np.eye(3) * a, ["Mg"] * 4 + ["O"] * 4, frac)


@pytest.fixture
def low_symmetry(rng: np.random.Generator) -> Crystal:
    """A triclinic (P1) ternary cell with 7 sites, well separated."""
    lattice = np.array([[4.3, 0.2, 0.1], [0.7, 5.1, -0.2], [-0.4, 0.9, 6.0]])
    frac = np.array(
        [[0.05, 0.11, 0.02], [0.52, 0.43, 0.19], [0.31, 0.77, 0.58], [0.83, 0.21, 0.66],
         [0.12, 0.58, 0.87], [0.67, 0.93, 0.33], [0.41, 0.05, 0.47]]
    )  # fmt: skip
    return Crystal.from_species(lattice, ["O", "O", "O", "Mg", "Mg", "Mn", "Mn"], frac)


def _pg_admin_engine():  # noqa: ANN202
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """True when the PostgreSQL server of the test machine answers."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        engine = _pg_admin_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except OperationalError:
        return False


@pytest.fixture
def pg_url(postgres_available: bool) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    if not postgres_available:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} does not answer")
    from sqlalchemy import text

    name = f"mfdisco_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'mfdisco.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on PostgreSQL (skipped when it does not answer)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mfdisco.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str):  # noqa: ANN201 - SQLAlchemy Engine
    """An engine on an upgraded (schema at head) database, on both backends."""
    from mfdisco.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()
