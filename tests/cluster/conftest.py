"""Fixtures for tests that need a real Kubernetes API server (etcd + kube-apiserver).

``control_plane`` (session scope) builds the binaries with scripts/envtest.sh when they
are missing, starts them on free loopback ports and yields a ``ControlPlane``. A build
or start failure fails the tests with the reason; they are never skipped.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from controlplane import ControlPlane, ControlPlaneError, ensure_binaries  # noqa: E402


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not on PATH; the cluster tests need it")
    try:
        bin_dir = ensure_binaries()
        cp = ControlPlane(bin_dir=bin_dir).start()
    except ControlPlaneError as e:
        pytest.fail(f"control plane could not be started: {e}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop()
