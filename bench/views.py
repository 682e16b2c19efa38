"""`python -m bench.views --n 50000`: the xDS server's cost of one patched resource.

A SnapshotCache holding N endpoint assignments (or N clusters) gets one resource patched,
30 times; measured, median ms: `SnapshotCache.publish`, `shared.view` of a subscription
naming every cluster (Envoy's EDS) or a wildcard one (CDS, scoped RDS, VHDS), and
`shared.delta` from the previous view. No gRPC, no Envoy: the per-change work every
delta stream in step shares (controller/xds/shared.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from controller.xds import shared
from controller.xds.subscription import Subscription
from controller.xdscache.snapshot import CLUSTER, ENDPOINT, SnapshotCache


def measure(n: int, type_url: str, wildcard: bool, changes: int = 30) -> dict[str, object]:
    """Median ms of publish, view and delta for one patched resource of N."""
    names = [f"bench/svc-{i}/80/da39a3ee5e" for i in range(n)]
    cache = SnapshotCache()
    cache.publish({type_url: {m: b"x" * 40 + m.encode() for m in names}})
    sub = Subscription()
    sub.change([] if wildcard else names, [])
    old = shared.view(cache.snapshot.get(type_url), sub)
    times: dict[str, list[float]] = {"publish": [], "view": [], "delta": []}
    for k in range(changes):
        t0 = time.perf_counter()
        cache.publish({type_url: {names[k % n]: b"y%d" % k}}, partial=True)
        t1 = time.perf_counter()
        new = shared.view(cache.snapshot.get(type_url), sub)
        t2 = time.perf_counter()
        shared.delta(old, new)
        old = new
        times["publish"].append(t1 - t0)
        times["view"].append(t2 - t1)
        times["delta"].append(time.perf_counter() - t2)
    return {"type": type_url.rsplit(".", 1)[1], "wildcard": wildcard, "n": n,
            **{k: round(statistics.median(v) * 1000, 2) for k, v in times.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    args = parser.parse_args(argv)
    for type_url, wildcard in ((ENDPOINT, False), (CLUSTER, True)):
        print(json.dumps(measure(args.n, type_url, wildcard)), flush=True)


if __name__ == "__main__":
    main()
