"""What checking Envoy's constraints costs (controller/envoy/constraints.py), at N objects.

    .venv/bin/python -m bench.bench_constraints --n 10000

Prints JSON: µs per `violations()` call on the resources the translators emit for the bench
objects (bench/generate.py: one vhost, one cluster and one assignment per root), and the
cold translation of N vhosts (IncrementalTranslator.update) and of N Endpoints objects
(endpoints_from_endpoints), each with the checks and with them switched off, so the
difference is what the checks add to a cold start.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import cluster as envoy_cluster
from controller.envoy import route as envoy_route
from controller.envoy.constraints import violations
from controller.envoy.endpoint import ip_port_assignment
from controller.xdscache import endpoints as eds
from controller.xdscache import translator as translator_module
from controller.xdscache.incremental import IncrementalTranslator


def dag(n: int) -> m.DAG:
    """n hosts shaped as bench/generate.py's roots: `/` → svc-i:80."""
    hosts = []
    for i in range(n):
        svc = m.ServicePort("bench", f"svc-{i}", 80)
        hosts.append(m.VirtualHost(f"app-{i}.bench.example.com",
                                   (m.Route("/", clusters=(m.Cluster(svc),)),)))
    return m.DAG(http=tuple(hosts))


def endpoints_objects(n: int) -> list[dict[str, Any]]:
    return [{"metadata": {"namespace": "bench", "name": f"svc-{i}"},
             "subsets": [{"addresses": [{"ip": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}],
                          "ports": [{"port": 8080}]}]} for i in range(n)]


def per_call(messages: list[Any], check: Callable[[Any], object]) -> float:
    """µs of CPU per call, best of 3 passes (CPU time: the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for message in messages:
            check(message)
        best = min(best, time.process_time() - t0)
    return round(best / len(messages) * 1e6, 2)


@contextmanager
def checks_off() -> Iterator[None]:
    """The translators with their Envoy checks (`rejection`, EDS's `assignment_rejection`)
    replaced by "always fine" (for the comparison)."""
    saved = translator_module.rejection, eds.assignment_rejection
    translator_module.rejection = lambda what, message: None
    eds.assignment_rejection = lambda *args, **kwargs: None
    try:
        yield
    finally:
        translator_module.rejection, eds.assignment_rejection = saved


def cold(run: Callable[[], object]) -> float:
    """CPU seconds for one cold run, best of 3 (a fresh translator each time)."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return round(best, 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    n = parser.parse_args(argv).n
    the_dag = dag(n)
    vhosts = [envoy_route.virtual_host(vh.host, [envoy_route.route(r) for r in vh.routes])
              for vh in the_dag.http]
    clusters = [envoy_cluster.cluster(r.clusters[0]) for vh in the_dag.http for r in vh.routes]
    objects = endpoints_objects(n)
    assignments = [ip_port_assignment(f"bench/svc-{i}", [(o["subsets"][0]["addresses"][0]["ip"],
                                                          8080)]) for i, o in enumerate(objects)]
    out: dict[str, Any] = {"n": n, "us_per_check": {
        "virtual_host": per_call(vhosts, violations),
        "cluster": per_call(clusters, violations),
        "cluster_load_assignment": per_call(assignments, violations),
    }}

    def translate() -> None:
        IncrementalTranslator(ListenerSettings()).update(the_dag)

    def translate_endpoints() -> None:
        for obj in objects:
            eds.endpoints_from_endpoints(obj)

    checked = {"translate_s": cold(translate), "endpoints_s": cold(translate_endpoints)}
    with checks_off():
        unchecked = {"translate_s": cold(translate), "endpoints_s": cold(translate_endpoints)}
    out["cold_checked"], out["cold_unchecked"] = checked, unchecked
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
