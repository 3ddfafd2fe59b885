"""System tools some tests run for real (Debian's chromium, docker-compose)."""

from __future__ import annotations

import os

import pytest


def missing_tool(name: str, install_hint: str) -> None:
    """Skip the calling test for want of ``name``, or fail it where ``REQUIRE_TEST_TOOLS`` is set (CI)."""
    if os.environ.get("REQUIRE_TEST_TOOLS"):
        pytest.fail(f"{name} is required here (REQUIRE_TEST_TOOLS is set) but not installed")
    pytest.skip(f"Debian's {name} is not installed ({install_hint})")
