"""How many status PATCHes the writer keeps in flight, and how long it pauses when the API
server pushes back: pure logic, no I/O (controller/k8s/status.py drives it).

perf (BENCHMARKS.md "Status writes at 10k"): a PATCH of a status costs the API server
~2.5 ms of CPU. While the API server has CPU to spare, more in flight keeps it busy
instead of waiting on round trips, up to where its CPU (or the machine's) is the limit.
Past that a larger window only queues requests in the API server, and every other request
waits behind them: 32 in flight on a loaded machine took a spec change 440-560 ms to reach
xDS, against 90-120 ms with 4 (p50, 3 runs each). So the window follows the writes'
latency, as TCP Vegas does: each round of `limit` writes, one more in flight while their
mean latency stays within TOLERANCE x the least latency seen (no queue yet), one fewer
beyond it; halved on every sign of overload (429, 5xx, an unreachable server).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

START, LOW, HIGH = 4, 1, 16
"""The window at start (the fixed window before, and the best measured on the loaded
2-core machine: 8, 16 and 32 did not write faster there), its floor, and its ceiling
(16 in flight already took the API server 67 ms to answer a spec PATCH, 11 ms with 4)."""
TOLERANCE = 2.0
"""A round whose mean latency is above TOLERANCE x the base latency is queueing."""
DRIFT = 1.05
"""The base latency may rise by 5 % a round (a slower server, a busier machine): a lucky
fast write early on does not pin the window at its floor for good."""
RETRY_AFTER_DEFAULT, RETRY_AFTER_MAX = 1.0, 30.0
"""Seconds to pause after a 429 without a usable Retry-After, and the longest pause."""


@dataclass
class Window:
    """The in-flight limit: `ok(seconds)` after each accepted write with its latency,
    `overloaded()` after a 429, a 5xx or a connection error."""

    limit: int = START
    low: int = LOW
    high: int = HIGH
    _base: float = math.inf
    _count: int = 0
    _total: float = 0.0
    _least: float = math.inf

    def ok(self, seconds: float) -> None:
        """One accepted write; after `limit` of them the round decides (one more or one
        fewer in flight)."""
        self._count += 1
        self._total += seconds
        self._least = min(self._least, seconds)
        if self._count < self.limit:
            return
        self._base = min(self._base * DRIFT, self._least)
        queueing = self._total / self._count > TOLERANCE * self._base
        self.limit = max(self.low, self.limit - 1) if queueing \
            else min(self.high, self.limit + 1)
        self._new_round()

    def overloaded(self) -> None:
        self.limit = max(self.low, self.limit // 2)
        self._new_round()

    def _new_round(self) -> None:
        self._count, self._total, self._least = 0, 0.0, math.inf


def pause_for(retry_after: str | None) -> float:
    """Seconds to wait after a 429 (in: its Retry-After header, delta-seconds as the API
    server sends them; out: that, or RETRY_AFTER_DEFAULT when missing or not a number,
    at most RETRY_AFTER_MAX; an HTTP-date is not expected from the API server)."""
    try:
        seconds = float(retry_after) if retry_after is not None else RETRY_AFTER_DEFAULT
    except ValueError:
        return RETRY_AFTER_DEFAULT
    if seconds != seconds or seconds < 0:  # NaN, negative
        return RETRY_AFTER_DEFAULT
    return min(seconds, RETRY_AFTER_MAX)
