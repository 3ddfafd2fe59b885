"""Tests of the benchmark scripts, which are files rather than package modules."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(relative_path: str) -> ModuleType:
    """Import ``benchmarks/<relative_path>`` as a module (registered, so its dataclasses resolve their annotations)."""
    path = BENCHMARKS / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
