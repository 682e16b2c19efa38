"""Fixtures for tests that need a real Kubernetes API server (etcd + kube-apiserver).

``control_plane`` (session scope) builds the binaries with scripts/envtest.sh when they
are missing, starts them on free loopback ports and yields a ``ControlPlane``. A build
or start failure fails the tests with the reason; they are never skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from controlplane import ControlPlane, session_control_plane  # noqa: E402


# this folder's own: its tests delete objects that other folders' worlds rely on
@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    yield from session_control_plane()
