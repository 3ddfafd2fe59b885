"""The typed configuration tree, loaded from YAML plus ``MFDISCO_*`` environment variables.

Precedence (later wins): defaults < YAML file < environment. The file is the one given
to :func:`load_config`, else ``$MFDISCO_CONFIG``, else none. An environment variable
``MFDISCO_<SECTION>_<KEY>`` sets ``<section>.<key>`` (``MFDISCO_DB_URL`` sets
``db.url``); ``__`` separates deeper levels (``MFDISCO_DATA__CACHE_DIR``). Values are
read as YAML scalars, so ``MFDISCO_DATA_BATCH_SIZE=200`` is a number and
``MFDISCO_DATA_ELEMENTS="Mg,Mn,O"`` a list. Validation happens at load; every error
names the key and where its value came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mfdisco.active_loop.config import CampaignConfig
from mfdisco.core import Fidelity, MfdiscoError, element_symbols
from mfdisco.db import DEFAULT_DB_URL, normalise_url
from mfdisco.generator.config import GeneratorConfig
from mfdisco.generator.datasets import DEFAULT_ELEMENTS
from mfdisco.labeller import LabelSettings
from mfdisco.platform.ray_connection import RayConfig
from mfdisco.validator.config import PotentialConfig

__all__ = [
    "ConfigError",
    "DatabaseConfig",
    "DataConfig",
    "LabellerConfig",
    "LoggingConfig",
    "MfdiscoConfig",
    "load_config",
    "ENV_PREFIX",
]

ENV_PREFIX = "MFDISCO_"
_CONFIG_FILE_VARIABLE = "MFDISCO_CONFIG"


class ConfigError(MfdiscoError, ValueError):
    """The configuration is invalid; the message names each bad key and its origin."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DatabaseConfig(_Section):
    """Where everything is recorded.

    Attributes:
        url: SQLAlchemy URL; SQLite file by default, ``postgresql+psycopg://...`` in production.
        busy_timeout_s: how long a SQLite writer waits for the lock (s).
        echo: log every SQL statement.
    """

    url: str = DEFAULT_DB_URL
    busy_timeout_s: float = Field(30.0, gt=0)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        normalise_url(value)  # raises DatabaseURLError (a ValueError) naming the URL
        return value


class DataConfig(_Section):
    """Dataset import.

    Attributes:
        elements: element list of the built-in prototype set.
        cache_dir: where datasets given by URL are downloaded.
        batch_size: structures per database transaction.
        min_distance_angstrom: imports reject structures with atoms closer than this (Å).
    """

    elements: list[str] = Field(default_factory=lambda: list(DEFAULT_ELEMENTS), min_length=1)
    cache_dir: Path = Path("~/.cache/mfdisco").expanduser()
    batch_size: int = Field(500, gt=0, le=5000)
    min_distance_angstrom: float = Field(0.5, gt=0)

    @field_validator("elements", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        return element_symbols(value) if isinstance(value, str | list | tuple) else value

    @field_validator("cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class LoggingConfig(_Section):
    """Logging.

    Attributes:
        level: the root level of mfdisco's loggers.
    """

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class LabellerConfig(_Section):
    """PySCF labelling.

    Attributes:
        preset: the family of settings to start from (``mfdisco.labeller.presets``):
            ``gamma`` (Γ only) or ``kpoint`` (k-point density 0.9 Å⁻¹, composite CCSD(T)).
        settings: label settings for every fidelity on top (fields of ``LabelSettings``).
        per_fidelity: settings for one fidelity on top, e.g. ``{"ccsd_t": {"frozen_core": true}}``.
        cpus_per_task: CPUs (and threads) of each labelling Ray task.
        max_retries: Ray retries of a task whose worker died.
    """

    preset: str = "gamma"
    settings: dict[str, Any] = Field(default_factory=dict)
    per_fidelity: dict[str, dict[str, Any]] = Field(default_factory=dict)
    cpus_per_task: int = Field(1, gt=0)
    max_retries: int = Field(2, ge=0)

    @field_validator("per_fidelity")
    @classmethod
    def _known_fidelities(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {Fidelity.parse(key).value: settings for key, settings in value.items()}

    def model_post_init(self, _context: Any) -> None:
        for fidelity in Fidelity:
            self.settings_for(fidelity)  # validates every combination at load

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        from mfdisco.labeller.presets import PRESETS

        if value not in PRESETS:
            raise ValueError(f"{value!r} is not one of {', '.join(PRESETS)}")
        return value

    def settings_for(self, fidelity: Fidelity | str) -> LabelSettings:
        """The validated settings of one fidelity: the preset, then ``settings``, then ``per_fidelity``."""
        from mfdisco.labeller.presets import preset_settings

        fidelity = Fidelity.parse(fidelity)
        return preset_settings(self.preset, fidelity, **{**self.settings, **self.per_fidelity.get(fidelity.value, {})})


class MfdiscoConfig(_Section):
    """The whole configuration; saved next to every model and in the ``campaigns`` row."""

    db: DatabaseConfig = Field(default_factory=DatabaseConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    labeller: LabellerConfig = Field(default_factory=LabellerConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    validator: PotentialConfig = Field(default_factory=PotentialConfig)
    campaign: CampaignConfig = Field(default_factory=CampaignConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> MfdiscoConfig:
    """Load and validate the configuration.

    Args:
        path: YAML file; default ``$MFDISCO_CONFIG`` when set.
        env: environment to read ``MFDISCO_*`` from; default ``os.environ``.
        overrides: dotted keys set last (the CLI's options), e.g. ``{"db.url": ...}``.

    Raises:
        ConfigError: unreadable file, unknown key or invalid value, naming each.
    """
    env = os.environ if env is None else env
    tree: dict[str, Any] = {}
    origins: dict[str, str] = {}
    path = path or env.get(_CONFIG_FILE_VARIABLE) or None
    if path is not None:
        _merge(tree, origins, _read_yaml(Path(path)), f"file {path}")
    for variable, value in sorted(env.items()):
        if variable.startswith(ENV_PREFIX) and variable != _CONFIG_FILE_VARIABLE:
            _merge(tree, origins, _nest(_env_key(variable), _scalar(value)), f"environment {variable}")
    for key, value in (overrides or {}).items():
        _merge(tree, origins, _nest(key.split("."), value), f"option {key}")
    try:
        return MfdiscoConfig.model_validate(tree)
    except ValidationError as error:
        raise ConfigError(_describe(error, origins)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def _env_key(variable: str) -> list[str]:
    """``MFDISCO_DB_URL`` -> ``["db", "url"]``; ``MFDISCO_DATA__CACHE_DIR`` -> ``["data", "cache_dir"]``."""
    rest = variable.removeprefix(ENV_PREFIX).lower()
    if "__" in rest:
        return rest.split("__")
    for section in sorted(MfdiscoConfig.model_fields, key=len, reverse=True):
        if rest.startswith(section + "_"):
            return [section, rest[len(section) + 1 :]]
    return [rest]


def _scalar(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None or (isinstance(value, dict) and not text.lstrip().startswith("{")):
        return text  # e.g. "key: value" typed by accident stays a string
    return value


def _nest(keys: list[str], value: Any) -> dict[str, Any]:
    tree: Any = value
    for key in reversed(keys):
        tree = {key: tree}
    return tree


def _merge(tree: dict[str, Any], origins: dict[str, str], update: dict[str, Any], origin: str, prefix: str = "") -> None:
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(tree.get(key), dict):
            _merge(tree[key], origins, value, origin, dotted + ".")
            continue
        tree[key] = value
        origins[dotted] = origin
        if isinstance(value, dict):
            for inner in _dotted_keys(value, dotted + "."):
                origins[inner] = origin


def _dotted_keys(tree: dict[str, Any], prefix: str) -> list[str]:
    keys = []
    for key, value in tree.items():
        keys.append(prefix + str(key))
        if isinstance(value, dict):
            keys.extend(_dotted_keys(value, f"{prefix}{key}."))
    return keys


def _describe(error: ValidationError, origins: dict[str, str]) -> str:
    lines = ["invalid configuration:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        origin = origins.get(key) or next((o for k, o in origins.items() if key.startswith(k + ".")), "defaults")
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key} (from {origin}): {message}")
    return "\n".join(lines)
