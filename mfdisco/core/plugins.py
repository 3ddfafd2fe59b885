"""Small shared mechanics: named backends, lazily exported names, weights-only checkpoint files."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["load_backend", "lazy_exports", "write_checkpoint", "read_checkpoint"]


def load_backend(registry: Mapping[str, str], name: str, kind: str) -> type:
    """The class registered as ``name`` (``"module:Class"``, imported on use).

    Raises:
        ValueError: naming the unknown backend and the registered ones.
    """
    if name not in registry:
        raise ValueError(f"unknown {kind} backend {name!r}; registered: {', '.join(sorted(registry))}")
    module, _, attribute = registry[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<where[name]>`` on first use of ``name``."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__


def write_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` ``payload`` to ``path`` atomically (a partial file never replaces a good one)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)
    return path


def read_checkpoint(path: str | Path, expected_format: str, what: str) -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)`` and check its ``format`` field.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: unreadable, or not a checkpoint of ``expected_format``.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not ours"
        raise ValueError(f"{path}: not a readable {what} checkpoint ({error})") from error
    if not isinstance(payload, dict) or payload.get("format") != expected_format:
        raise ValueError(f"{path}: not an mfdisco {what} checkpoint (expected format {expected_format})")
    return payload
