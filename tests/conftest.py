"""Fixtures shared across test folders.

``control_plane`` (session scope): a real etcd + kube-apiserver (tests/cluster/controlplane.py),
built with scripts/envtest.sh when the binaries are missing. A build or start failure fails
the tests that use it, with the reason; they are never skipped. tests/cluster/conftest.py may
define the same fixture for its own folder; this one serves every other folder
(tests/kubectl_contour uses it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline anywhere: Hypothesis' default (200 ms) is a timed assertion, and
# it failed property tests on a loaded machine (test_validation_properties, load 13).
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

_CLUSTER = str(Path(__file__).resolve().parent / "cluster")
if _CLUSTER not in sys.path:
    sys.path.insert(0, _CLUSTER)

from controlplane import ControlPlane, session_control_plane  # noqa: E402

from controller.faults import BUG_LOGGER  # noqa: E402


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    yield from session_control_plane()


class _BugRecords(logging.Handler):
    """Collects what the stages' error boundaries log as bugs (controller/faults.py)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_escaped_exceptions(request: pytest.FixtureRequest) -> Iterator[None]:
    """An exception that escapes a stage's own checks is a bug (issue 7): any test during
    which an error boundary fired fails, unless it provokes one on purpose and says so
    with `@pytest.mark.provokes_bug`."""
    handler = _BugRecords()
    logger = logging.getLogger(BUG_LOGGER)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("provokes_bug") is None:
        lines = "\n".join(r.getMessage() for r in handler.records)
        pytest.fail(f"an error boundary caught an escaped exception:\n{lines}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "provokes_bug: the test makes a stage raise on purpose (faults.py)")
