"""Fixtures for the black-box scenario tests (tests/e2e)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.certs import HarnessCA
from harness.procs import stop_all


@pytest.fixture(scope="session")
def harness_ca() -> HarnessCA:
    """One harness CA per test session (leaf certificates are cached by CN/SANs)."""
    return HarnessCA()


@pytest.fixture(scope="session", autouse=True)
def _kill_leftover_processes() -> Iterator[None]:
    yield
    stop_all()


@pytest.fixture
def e2e_workdir(tmp_path: Path) -> Path:
    d = tmp_path / "run"
    d.mkdir()
    return d
