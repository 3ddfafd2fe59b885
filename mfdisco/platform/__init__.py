"""Configuration, logging, the command line, dataset import, and (later) the campaign runner."""

from mfdisco.platform.config import ConfigError, DatabaseConfig, DataConfig, LoggingConfig, MfdiscoConfig, load_config
from mfdisco.platform.importing import ImportReport, import_dataset

__all__ = [
    "ConfigError",
    "DataConfig",
    "DatabaseConfig",
    "ImportReport",
    "LoggingConfig",
    "MfdiscoConfig",
    "import_dataset",
    "load_config",
]
