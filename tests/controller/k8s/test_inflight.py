"""The status writer's in-flight window (AIMD) and its 429 pause, as tables."""

from __future__ import annotations

import pytest

from controller.k8s.inflight import RETRY_AFTER_DEFAULT, RETRY_AFTER_MAX, Window, pause_for


@pytest.mark.parametrize(("start", "events", "limit"), [
    (4, [], 4),
    (4, ["ok"] * 3, 4),              # grows only after `limit` accepted writes in a row
    (4, ["ok"] * 4, 5),
    (4, ["ok"] * 9, 6),              # 4 then 5 more: +1 per window's worth
    (32, ["ok"] * 100, 32),          # never above the ceiling
    (16, ["busy"], 8),               # halves on overload
    (16, ["busy"] * 10, 1),          # never below the floor
    (4, ["ok"] * 3 + ["busy"] + ["ok"] * 3, 3),  # 2 after the overload, then +1
])
def test_the_window_grows_additively_and_halves_on_overload(
        start: int, events: list[str], limit: int) -> None:
    window = Window(limit=start)
    for event in events:
        window.ok() if event == "ok" else window.overloaded()
    assert window.limit == limit


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
