"""Config: defaults < YAML < environment < options; every error names the key and its origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfdisco.platform import ConfigError, load_config


def test_defaults() -> None:
    config = load_config(env={})
    assert config.db.url == "sqlite:///mfdisco.db"
    assert config.data.elements[-1] == "O" and len(config.data.elements) == 13
    assert config.data.min_distance_angstrom == 0.5


def test_precedence_yaml_then_environment_then_options(tmp_path: Path) -> None:
    path = tmp_path / "mfdisco.yaml"
    path.write_text("db:\n  url: sqlite:///from_yaml.db\ndata:\n  batch_size: 7\n  elements: [mg, o]\n")
    config = load_config(path, env={"MFDISCO_DATA_BATCH_SIZE": "9"})
    assert (config.db.url, config.data.batch_size, config.data.elements) == ("sqlite:///from_yaml.db", 9, ["Mg", "O"])
    config = load_config(env={"MFDISCO_CONFIG": str(path), "MFDISCO_DB_URL": "postgresql://u@h/d"}, overrides={"data.batch_size": 3})
    assert (config.db.url, config.data.batch_size) == ("postgresql://u@h/d", 3)
    assert load_config(env={"MFDISCO_DATA__CACHE_DIR": "/tmp/x", "MFDISCO_DATA_ELEMENTS": "Ni, O"}).data.elements == ["Ni", "O"]


@pytest.mark.parametrize(
    ("yaml_text", "env", "expected"),
    [
        ("db:\n  urll: x\n", {}, "db.urll (from file"),
        ("", {"MFDISCO_DB_URL": "not a url"}, "db.url (from environment MFDISCO_DB_URL): database URL 'not a url'"),
        ("", {"MFDISCO_DB_URL": "mysql://x@y/z"}, "backend 'mysql' is not supported"),
        ("data:\n  elements: [Mg, Xx]\n", {}, "data.elements (from file"),
        ("", {"MFDISCO_DATA_BATCH_SIZE": "0"}, "data.batch_size (from environment MFDISCO_DATA_BATCH_SIZE)"),
        ("", {"MFDISCO_LOGGING_LEVEL": "loud"}, "logging.level"),
        ("campaign:\n  max_relax_volume_change: 0.5\n", {}, "campaign.max_relax_volume_change (from file"),
        ("", {"MFDISCO_NOPE": "1"}, "nope (from environment MFDISCO_NOPE): unknown key"),
        ("[1, 2]\n", {}, "must hold a mapping"),
        ("db: [\n", {}, "not valid YAML"),
    ],
)
def test_bad_config_names_key_and_origin(tmp_path: Path, yaml_text: str, env: dict[str, str], expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env)
    assert expected in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.yaml", env={})


def test_label_preset_is_the_base_of_the_labeller_settings(tmp_path: Path) -> None:
    cfg = load_config(None, env={"MFDISCO_LABELLER_PRESET": "kpoint"})
    pbe, cc = cfg.labeller.settings_for("pbe"), cfg.labeller.settings_for("ccsd_t")
    assert pbe.kspacing == cc.kspacing == 0.9 and cc.correlation_at_gamma and not pbe.correlation_at_gamma
    path = tmp_path / "c.yaml"
    path.write_text("labeller:\n  preset: kpoint\n  settings: {kspacing: 0.5}\n  per_fidelity: {ccsd_t: {correlation_at_gamma: false}}\n")
    cfg = load_config(path, env={})
    assert cfg.labeller.settings_for("pbe").kspacing == 0.5 and not cfg.labeller.settings_for("ccsd_t").correlation_at_gamma
    assert load_config(None, env={}).labeller.settings_for("pbe").kspacing is None  # gamma by default
    with pytest.raises(ConfigError, match="labeller.preset.*'dense' is not one of gamma, kpoint"):
        load_config(None, env={"MFDISCO_LABELLER_PRESET": "dense"})
