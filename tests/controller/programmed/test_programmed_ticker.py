"""The ticker: a burst of pokes is one call, and calls are at least `interval` apart."""

from __future__ import annotations

import asyncio

from controller.programmed.ticker import Ticker


def test_a_burst_is_one_call_and_calls_are_spaced() -> None:
    calls: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ticker = Ticker(lambda: calls.append(loop.time()), 0.2, clock=loop.time)
        for _ in range(100):
            ticker.poke()
        await asyncio.sleep(0.05)
        assert len(calls) == 1
        for _ in range(100):
            ticker.poke()
        await asyncio.sleep(0.3)
        assert len(calls) == 2
        assert calls[1] - calls[0] >= 0.2 - 1e-3

    asyncio.run(main())


def test_without_a_loop_it_calls_at_once() -> None:
    calls: list[int] = []
    Ticker(lambda: calls.append(1), 10.0).poke()
    assert calls == [1]
