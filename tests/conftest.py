"""Fixtures shared across test folders.

``control_plane`` (session scope): a real etcd + kube-apiserver (tests/cluster/controlplane.py),
built with scripts/envtest.sh when the binaries are missing. A build or start failure fails
the tests that use it, with the reason; they are never skipped. tests/cluster/conftest.py may
define the same fixture for its own folder; this one serves every other folder
(tests/kubectl_contour uses it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_CLUSTER = str(Path(__file__).resolve().parent / "cluster")
if _CLUSTER not in sys.path:
    sys.path.insert(0, _CLUSTER)

from controlplane import ControlPlane, session_control_plane  # noqa: E402


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    yield from session_control_plane()
