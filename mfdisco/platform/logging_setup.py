"""Logging for the command line: rich formatting on stderr, one level for mfdisco's loggers."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

__all__ = ["setup_logging"]


def setup_logging(level: str = "INFO") -> None:
    """Send mfdisco's log records to stderr through rich; noisy libraries stay at WARNING."""
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("mfdisco")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    for noisy in ("alembic", "pymatgen", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
