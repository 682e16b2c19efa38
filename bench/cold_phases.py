"""CPU of the in-process cold start by stage (process_time), for `bench.bench inproc`'s
workload: the validation boundary, the store, the EDS path, the builder, the translator,
and what is left (the event loop's own work, statuses, the snapshot cache).

    python -m bench.cold_phases --n 10000 --kind httpproxy

Prints one JSON line: seconds per stage, `total` CPU and `wall`. Process time, not wall
time, so a shared machine skews it less (BENCHMARKS.md "HTTPProxy cold build").
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from bench import generate


class Stages:
    """Seconds of CPU per stage, added up by the wrapped callables."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.process_time() - start
                self.seconds[stage] = self.seconds.get(stage, 0.0) + took
        return wrapper


def run(n: int, kind: str) -> dict[str, float]:
    """One cold start of `n` roots of `kind`: {stage: seconds, total, wall}."""
    from controller.app import Controller, tune_gc
    from controller.config import ListenerSettings, Settings
    from controller.events import Synced
    from controller.sources.intake import admit_event

    tune_gc()
    listeners = ListenerSettings(http_access_log="/dev/null", https_access_log="/dev/null")
    controller = Controller(Settings(listeners=listeners, insecure=True))
    stages, routing = Stages(), controller.routing
    for owner, name, stage in ((routing.builder, "build", "build"),
                               (routing.translator, "update", "translate"),
                               (routing, "apply", "store"),
                               (controller.endpoints, "apply", "endpoints"),
                               (controller.endpoints, "publish", "endpoints")):
        setattr(owner, name, stages.timed(stage, getattr(owner, name)))
    pipeline = controller.pipeline()
    admit = stages.timed("admit", admit_event)
    objects = generate.objects(n, kind=kind)
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    events = [admit(o, source="bench", fallback_name=str(i)) for i, o in enumerate(objects)]
    pipeline.process([*events, Synced("bench")])
    total, wall = time.process_time() - cpu, time.perf_counter() - wall
    out = {k: round(v, 3) for k, v in sorted(stages.seconds.items())}
    out["other"] = round(total - sum(stages.seconds.values()), 3)
    return out | {"total": round(total, 3), "wall": round(wall, 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--kind", choices=("ingressroute", "httpproxy"), default="httpproxy")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.n, args.kind)))


if __name__ == "__main__":
    main()
