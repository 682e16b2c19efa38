"""How many status PATCHes the writer keeps in flight, and how long it pauses when the API
server pushes back: pure logic, no I/O (controller/k8s/status.py drives it).

perf (BENCHMARKS.md "Status writes at 10k"): a PATCH of a status costs the API server
~2 ms of CPU, and with one or four in flight the writer mostly waits on round trips;
more in flight keeps the API server busy, up to where its CPU is the limit. Past that a
larger window only queues requests in the API server, which delays everyone's requests
(the controller's own spec changes too), so the window grows additively and halves on
every sign of overload (429, 5xx, an unreachable server): TCP's AIMD.
"""

from __future__ import annotations

from dataclasses import dataclass

START, LOW, HIGH = 16, 1, 32
"""The window at start, its floor and its ceiling (POOL_SIZE in client.py leaves room for
HIGH writers beside the watches)."""
RETRY_AFTER_DEFAULT, RETRY_AFTER_MAX = 1.0, 30.0
"""Seconds to pause after a 429 without a usable Retry-After, and the longest pause."""


@dataclass
class Window:
    """An additive-increase, multiplicative-decrease in-flight limit.

    `ok()` after each accepted write: the limit grows by one once `limit` writes in a row
    were accepted (about one round trip of the window). `overloaded()` after a 429, a 5xx
    or a connection error: the limit halves (never below `low`)."""

    limit: int = START
    low: int = LOW
    high: int = HIGH
    _streak: int = 0

    def ok(self) -> None:
        self._streak += 1
        if self._streak >= self.limit:
            self._streak = 0
            self.limit = min(self.high, self.limit + 1)

    def overloaded(self) -> None:
        self._streak = 0
        self.limit = max(self.low, self.limit // 2)


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
