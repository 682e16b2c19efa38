"""Fixtures for the tests on a real single-node cluster (scripts/node.sh) and its images
(scripts/image.sh). This folder's helpers (nodekit, hoststate, deployed) are importable by
name, like tests/cluster's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from deployed import Deployed, deploy  # noqa: E402
from nodekit import NodeError  # noqa: E402


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """manifests/ applied on a real node with both images imported, the echo backends and
    routes applied; shared by test_deployment.py and test_operations.py (which ends with
    `kubectl delete -f manifests/`). A part that cannot start fails the tests with the
    reason; they are never skipped."""
    try:
        d = deploy(tmp_path_factory.mktemp("deployed"))
    except (NodeError, AssertionError, subprocess.SubprocessError) as e:
        pytest.fail(f"the deployment could not be brought up: {e}", pytrace=False)
    try:
        yield d
    finally:
        d.close()
