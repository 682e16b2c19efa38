"""The status writer's in-flight window (latency-following, halved on overload) and its
429 pause, as tables."""

from __future__ import annotations

import pytest

from controller.k8s.inflight import RETRY_AFTER_DEFAULT, RETRY_AFTER_MAX, Window, pause_for

FAST, SLOW = 0.005, 0.05
"""Write latencies (s): a round of SLOW after FAST ones is queueing (over 2 x the base)."""


@pytest.mark.parametrize(("start", "events", "limit"), [
    (4, [], 4),
    (4, [FAST] * 3, 4),                   # a round is `limit` writes: no decision yet
    (4, [FAST] * 4, 5),                   # no queueing: one more in flight
    (4, [FAST] * 9, 6),                   # 4, then 5 more
    (4, [FAST] * 4 + [SLOW] * 5, 4),      # latency 10 x the base: one fewer
    (4, [FAST] * 4 + [FAST * 1.9] * 5, 6),  # within 2 x the base: still growing
    (32, [FAST] * 100, 32),               # never above the ceiling
    (4, [SLOW] * 4 + [SLOW] * 5, 6),      # uniformly slow is no queue: the base is SLOW
    (16, ["busy"], 8),                    # halves on overload
    (16, ["busy"] * 10, 1),               # never below the floor
    (4, [FAST] * 3 + ["busy"] + [FAST] * 2, 3),  # an overload starts a new round
])
def test_the_window_grows_until_writes_queue_and_halves_on_overload(
        start: int, events: list[float | str], limit: int) -> None:
    window = Window(limit=start, low=1, high=32)
    for event in events:
        window.overloaded() if event == "busy" else window.ok(float(event))
    assert window.limit == limit


def test_a_slower_server_becomes_the_new_base() -> None:
    """After a fast start, writes that stay 3 x slower shrink the window at first, then
    (the base drifting up 5 % a round) count as unqueued again and it grows."""
    window = Window(limit=8, low=4, high=32)
    for _ in range(8):
        window.ok(FAST)
    limits = []
    for _ in range(60):
        for _ in range(window.limit):
            window.ok(3 * FAST)
        limits.append(window.limit)
    assert limits[0] == 8 and min(limits) == 4 and limits[-1] > 4


@pytest.mark.parametrize(("header", "seconds"), [
    ("3", 3.0),
    ("0", 0.0),
    ("1.5", 1.5),
    (None, RETRY_AFTER_DEFAULT),
    ("soon", RETRY_AFTER_DEFAULT),
    ("Wed, 21 Oct 2015 07:28:00 GMT", RETRY_AFTER_DEFAULT),
    ("-4", RETRY_AFTER_DEFAULT),
    ("nan", RETRY_AFTER_DEFAULT),
    ("86400", RETRY_AFTER_MAX),
])
def test_a_429_pauses_for_its_retry_after_within_bounds(header: str | None,
                                                         seconds: float) -> None:
    assert pause_for(header) == seconds
