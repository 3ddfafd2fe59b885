"""Exceptions shared across mfdisco."""

from __future__ import annotations

__all__ = ["MfdiscoError", "InvalidCrystalError", "StructureFormatError"]


class MfdiscoError(Exception):
    """Base class of every error mfdisco raises on purpose."""


class InvalidCrystalError(MfdiscoError, ValueError):
    """A crystal failed validation (non-finite numbers, singular lattice, unknown element...)."""


class StructureFormatError(MfdiscoError, ValueError):
    """A structure file or string could not be read (malformed, disordered, unsupported)."""
