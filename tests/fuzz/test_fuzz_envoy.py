"""CI variant of `python -m bench.fuzz`: a seeded few thousand generated objects through
`contour serve --source-dir` and a real Envoy, every invariant of issue 7 checked after
every batch (tests/fuzz/fuzzing/run.py). Bounded to ~2-3 minutes on 2 shared cores.

A part that cannot start fails the test (World.start raises); an invariant failure fails
it with every reproducer (`python -m bench.fuzz --seed S --batch B --replay I` writes the
batch that broke it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzing.run import Fuzzer, Settings
from fuzzing.world import World

SEED = 20261202
OBJECTS = 3000
BATCH = 100
LATENCY_LIMIT = 2.0
"""Seconds an unrelated new vhost may take to reach Envoy while hostile objects are present:
the issue's target, the normal change latency. Measured 2026-12-02: p50 0.55 s, p99 1.0 s.
The fuzzer's dead endpoint is 127.0.0.1:9 (refused at once). An endpoint that accepts and
never answers a health check is the open finding in BENCHMARKS.md: it delays everyone."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "fuzz")
    try:
        w.start()
        yield w
    finally:
        bugs = w.close()
        assert not bugs, "the controller logged escaped exceptions:\n" + "\n".join(bugs[:20])


def test_fuzz_through_envoy(world: World) -> None:
    lines: list[str] = []
    summary = Fuzzer(world, Settings(seed=SEED, objects=OBJECTS, batch_objects=BATCH,
                                     latency_limit=LATENCY_LIMIT),
                     say=lines.append).run()
    figures = summary.figures()
    print(json.dumps(figures))
    assert summary.objects >= OBJECTS
    if summary.failed:
        shown = "\n".join(f.render() for f in summary.failures[:60])
        more = sum(summary.failure_counts.values()) - min(60, len(summary.failures))
        pytest.fail(f"invariant failures {figures['failures']} "
                    f"(crashes {figures['crashes']}, NACKs {figures['nacks']}, unreported "
                    f"{figures['unreported']}, isolation {figures['isolation_failures']}, "
                    f"latency {figures['latency_failures']}, leftovers {figures['leftovers']}):"
                    f"\n{shown}" + (f"\n... {more} more" if more > 0 else ""), pytrace=False)
