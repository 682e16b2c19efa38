"""`tune_malloc` (called by `contour serve`): glibc's mallopt takes both settings here; the
effect on RSS is measured by `bench.bench fanout` (BENCHMARKS.md), not asserted."""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest

from controller.app import tune_malloc


@pytest.mark.skipif(not ctypes.util.find_library("c"), reason="no C library to tune")
def test_tune_malloc_sets_both_options_with_glibc() -> None:
    assert tune_malloc() is True
    assert tune_malloc() is True  # idempotent: serve may run it again
