"""Runs a callback soon after it is poked, at most once per `interval` (a burst of pokes is
one call): what keeps a 10k-object change from becoming 10k status writes per Envoy ACK."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from controller import faults


class Ticker:
    def __init__(self, callback: Callable[[], None], interval: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._callback = callback
        self._interval = interval
        self._clock = clock
        self._last = -interval
        self._scheduled: asyncio.Handle | None = None

    def poke(self) -> None:
        """Ask for a call: now-ish (after what is already scheduled on the loop, the xDS
        writers first), or when the interval since the last call has passed. Without a
        running loop (tools, tests) it calls at once."""
        if self._scheduled is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._run()
            return
        wait = self._last + self._interval - self._clock()
        self._scheduled = (loop.call_later(wait, self._run) if wait > 0
                           else loop.call_soon(self._run))

    def _run(self) -> None:
        self._scheduled = None
        self._last = self._clock()
        try:
            self._callback()
        except Exception as err:  # noqa: BLE001 - a refresh must never break the loop
            faults.quarantine_reason("ticker", repr(self._callback), err)


def schedule_later(delay: float, callback: Callable[[], None]) -> None:
    """`callback` after `delay` seconds on the running loop; nothing without one."""
    try:
        asyncio.get_running_loop().call_later(delay, callback)
    except RuntimeError:
        return
