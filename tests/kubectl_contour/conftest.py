"""Shared fixtures for the plugin's tests: the fixture folder, a CliRunner with a fixed
terminal (COLUMNS=100, no colour), and golden-file comparison (UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "cluster"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _fixed_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


@pytest.fixture(scope="session")
def world(control_plane: Any) -> Iterator[Any]:
    """The real world of real_world.py (API server, controller, Envoy, backends), shared by
    the test_real_*.py modules. A part that cannot start fails the tests with the reason."""
    from real_world import WorldError, start_world

    try:
        w = start_world(control_plane)
    except (WorldError, RuntimeError) as e:
        pytest.fail(f"the real world could not be started: {e}", pytrace=False)
    try:
        yield w
    finally:
        w.close()
