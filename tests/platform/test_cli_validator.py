"""``mfdisco validator train|eval`` on a small pool file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mfdisco.core import Fidelity
from mfdisco.labeller import settings_hash
from mfdisco.platform.cli import app
from mfdisco.platform.config import LabellerConfig
from mfdisco.validator.samples import Sample, split_by_structure
from tests.validator.conftest import rocksalt, synthetic_energy

TINY = {
    "MFDISCO_VALIDATOR__NUM_CHANNELS": "8", "MFDISCO_VALIDATOR__MAX_ELL": "2", "MFDISCO_VALIDATOR__CORRELATION": "2",
    "MFDISCO_VALIDATOR__RADIAL_MLP": "[8]", "MFDISCO_VALIDATOR__MLP_IRREPS_PER_HEAD": "4", "MFDISCO_VALIDATOR__THREADS": "1",
    "MFDISCO_VALIDATOR__BATCH_SIZE": "4",
}


@pytest.fixture
def pool_file(tmp_path: Path) -> Path:
    """20 labels at the labeller's default settings (the CLI keeps only the labeller's family)."""
    hashes = {f: settings_hash(f, LabellerConfig().settings_for(f)) for f in (Fidelity.PBE, Fidelity.CCSD_T)}
    structures, labels = [], []
    for cation, a0 in (("Mg", 4.21), ("Ca", 4.81)):
        for k, a in enumerate(a0 * np.linspace(0.96, 1.04, 5)):
            crystal = rocksalt(a, cation)
            digest = crystal.canonical_hash()
            structures.append({"name": f"{cation}O-{k}", "canonical_hash": digest, "subset": False, **crystal.to_dict()})
            for fidelity in (Fidelity.PBE, Fidelity.CCSD_T):
                energy = synthetic_energy(crystal, fidelity)
                label = {"fidelity": fidelity.value, "settings": {}, "settings_hash": hashes[fidelity], "status": "done", "energy_ev": energy, "energy_per_atom_ev": energy / 2}
                labels.append({"canonical_hash": digest, "name": f"{cation}O-{k}", "label": label})
    path = tmp_path / "pool.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"structures": structures, "labels": labels, "settings": {}}).encode()))
    return path


def test_train_then_eval_from_a_pool_file(pool_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'm.db'}"
    out = tmp_path / "v.pt"
    result = runner.invoke(
        app, ["--db-url", db, "validator", "train", "--pool", str(pool_file), "--out", str(out), "--epochs", "2", "--ensemble-size", "2", "--valid-fraction", "0.2"], env=TINY
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and "models row 1" in result.output and "ccsd_t" in result.output
    result = runner.invoke(app, ["--db-url", db, "validator", "eval", "--model", str(out), "--pool", str(pool_file)], env=TINY)
    assert result.exit_code == 0, result.output
    assert "20 labels" in result.output and "pbe" in result.output


def test_bad_options_are_named(pool_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'm.db'}"
    result = runner.invoke(app, ["--db-url", db, "validator", "train", "--pool", str(pool_file), "--schedule", "sideways"], env=TINY)
    assert result.exit_code == 1 and "schedule" in result.output
    result = runner.invoke(app, ["--db-url", db, "validator", "train", "--pool", str(tmp_path / "none.json.gz")], env=TINY)
    assert result.exit_code == 1 and "none.json.gz" in result.output
    result = runner.invoke(app, ["--db-url", db, "validator", "train"], env=TINY)
    assert result.exit_code == 1 and "no finished labels" in result.output
    (tmp_path / "junk.pt").write_text("junk")
    result = runner.invoke(app, ["--db-url", db, "validator", "eval", "--model", str(tmp_path / "junk.pt"), "--pool", str(pool_file)], env=TINY)
    assert result.exit_code == 1 and "junk.pt" in result.output


def test_split_keeps_the_labels_of_a_structure_together() -> None:
    samples = [Sample.from_crystal(rocksalt(4.0 + 0.05 * i), f, -1.0) for i in range(10) for f in (Fidelity.PBE, Fidelity.CCSD_T)]
    train, valid = split_by_structure(samples, 0.3, seed=1)
    assert len(valid) == 6 and not {s.key for s in train} & {s.key for s in valid}
