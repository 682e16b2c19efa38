"""The error boundary every stage shares: an exception that escaped a stage's own checks.

Validation at the boundary (sources/intake.py) should leave no input that makes a later stage
raise. When one does anyway, the stage quarantines the offending object (it is reported as
rejected with the reason returned here) and keeps serving everything else. The exception is
logged on the `controller.bug` logger: that is a bug, and the test suite fails on any such
record (tests/conftest.py) or any such line on a controller's stderr (tests/e2e/harness).
"""

from __future__ import annotations

import logging

BUG_LOGGER = "controller.bug"
BUG_MARKER = "BUG:"
"""Starts every bug line, so a harness reading a controller's stderr can fail on it."""

_log = logging.getLogger(BUG_LOGGER)


def quarantine_reason(stage: str, what: str, err: BaseException) -> str:
    """Log `err` (with its traceback) as a bug of `stage` while handling `what`; return the
    reason the object is rejected with."""
    _log.error("%s %s failed on %s: %s: %s", BUG_MARKER, stage, what, type(err).__name__, err,
               exc_info=err)
    return f"internal error in {stage} ({type(err).__name__}); the object is quarantined"
