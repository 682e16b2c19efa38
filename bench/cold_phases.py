"""CPU of the in-process cold start by stage (process_time), for `bench.bench inproc`'s
workload: the validation boundary, the store, the EDS path, the builder, the translator,
and what is left (the event loop's own work, statuses, the snapshot cache).

    python -m bench.cold_phases --n 10000 --kind httpproxy [--floor]

Prints one JSON line: seconds per stage, `total` CPU and `wall`. Process time, not wall
time, so a shared machine skews it less (BENCHMARKS.md "HTTPProxy cold build").
`--floor` times instead, each alone (best of 3), the parts no restructuring removes: the
boundary's schema and CEL checks, one parse of every object into its view, and 3 × N
minimal protos (a cluster, a vhost with one route, an assignment) built and serialized.
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


def _best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return round(min(times), 3)


def floor(n: int, kind: str) -> dict[str, float]:
    """The parts of the cold start no restructuring removes, each timed alone."""
    from controller.k8s.endpoints import read_endpoints
    from controller.k8s.httpproxy_views import httpproxy_view
    from controller.k8s.views import ingressroute_view, service_view
    from controller.validation.kinds import rule_for

    objects = generate.objects(n, kind=kind)
    rules = [rule_for(o) for o in objects]
    views = {"HTTPProxy": httpproxy_view, "IngressRoute": ingressroute_view,
             "Service": service_view, "Endpoints": read_endpoints}

    def schema() -> None:
        for o, r in zip(objects, rules, strict=True):
            (r.validator_for(o) if r.variant_field else r.validator).is_valid(o)

    def cel() -> None:
        for o, r in zip(objects, rules, strict=True):
            if r.cel:
                r.cel_tree.problems(o)

    gc.disable()
    try:
        return {"schema": _best(schema), "cel": _best(cel),
                "views": _best(lambda: [views[o["kind"]](o) for o in objects]),
                "protos": _best(lambda: [_minimal_protos(i) for i in range(n)])}
    finally:
        gc.enable()


def _minimal_protos(i: int) -> tuple[bytes, bytes, bytes]:
    """Host i's cluster, vhost and assignment with the fewest fields Envoy needs, set in
    place, serialized."""
    from controller.envoy import pb

    name, host = f"bench/svc-{i}/80/da39a3ee5e", generate.host(i)
    cluster = pb.Cluster(name=name, alt_stat_name=f"bench_svc-{i}_80", type=pb.Cluster.EDS)
    cluster.eds_cluster_config.service_name = f"bench/svc-{i}/http"
    cluster.eds_cluster_config.eds_config.ads.SetInParent()
    cluster.connect_timeout.FromSeconds(2)
    vhost = pb.VirtualHost(name=host, domains=[host])
    route = vhost.routes.add()
    route.match.prefix, route.route.cluster = "/", name
    cla = pb.ClusterLoadAssignment(cluster_name=f"bench/svc-{i}/http")
    socket = cla.endpoints.add().lb_endpoints.add().endpoint.address.socket_address
    socket.address, socket.port_value = "127.0.0.1", 9999
    return (cluster.SerializeToString(deterministic=True),
            vhost.SerializeToString(deterministic=True), cla.SerializeToString(deterministic=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--kind", choices=("ingressroute", "httpproxy"), default="httpproxy")
    parser.add_argument("--floor", action="store_true", help="time the irreducible parts")
    args = parser.parse_args(argv)
    print(json.dumps((floor if args.floor else run)(args.n, args.kind)))


if __name__ == "__main__":
    main()
