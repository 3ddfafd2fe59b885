"""``mfdisco generator train`` and ``mfdisco generate`` on the built-in prototypes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mfdisco.db import make_engine, run_read_only
from mfdisco.platform.cli import app

TINY = {
    "MFDISCO_GENERATOR__HIDDEN": "16", "MFDISCO_GENERATOR__LAYERS": "1", "MFDISCO_GENERATOR__FOURIER_FREQUENCIES": "2",
    "MFDISCO_GENERATOR__DIFFUSION_STEPS": "20", "MFDISCO_GENERATOR__SAMPLE_STEPS": "10", "MFDISCO_GENERATOR__THREADS": "1",
    "MFDISCO_DATA_ELEMENTS": "Mg,Ca,O",
}


def test_train_then_generate(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    model = tmp_path / "gen.pt"
    result = runner.invoke(app, ["--db-url", db, "generator", "train", "--builtin", "--epochs", "2", "--out", str(model)], env=TINY)
    assert result.exit_code == 0, result.output
    assert model.is_file() and "models row 1" in result.output
    result = runner.invoke(app, ["--db-url", db, "generate", "--n", "4", "--model", str(model), "--out", str(tmp_path / "cifs")], env=TINY)
    assert result.exit_code == 0, result.output
    assert "sampled" in result.output and len(list((tmp_path / "cifs").glob("*.cif"))) >= 1
    rows = run_read_only(db, "SELECT count(*) FROM structures WHERE source = 'generated'").rows
    models = run_read_only(db, "SELECT kind, backend, version FROM models").rows
    assert rows[0][0] >= 0 and models == [("generator", "diffcsp", 1)]
    make_engine(db).dispose()


def test_bad_options_are_named(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    result = runner.invoke(app, ["--db-url", db, "generator", "train", "--builtin", "--task", "sideways"], env=TINY)
    assert result.exit_code == 1 and "task" in result.output
    result = runner.invoke(app, ["--db-url", db, "generator", "train", "--builtin", "--properties", "band_gap", "--epochs", "1"], env=TINY)
    assert result.exit_code == 1 and "band_gap" in result.output
    result = runner.invoke(app, ["--db-url", db, "generate", "--model", str(tmp_path / "none.pt")], env=TINY)
    assert result.exit_code == 1 and "none.pt" in result.output
    result = runner.invoke(app, ["--db-url", db, "generate", "--n", "0"], env=TINY)
    assert result.exit_code == 1 and "--n" in result.output
