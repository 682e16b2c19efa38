"""The pages of the metrics and debug servers, read from the running controller's StateView."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller import memory
from controller.dag.dot import dag_dot
from controller.envoy.type_urls import ROUTE_TYPE, SCOPED_ROUTE_TYPE, SECRET_TYPE
from controller.web import HttpServer, Response, as_json, text
from controller.xdscache.snapshot import LAYOUT_TYPES, TYPE_URLS

if TYPE_CHECKING:
    from controller.state_view import StateView


LOOP_STALL_SECONDS = 30.0


class ControllerCollector(Collector):
    """Prometheus metrics computed at scrape time from the controller's current state."""

    def __init__(self, state: StateView) -> None:
        self.c = state

    def collect(self) -> Iterator[Metric]:
        yield from self._build_metrics()
        yield from self._object_metrics()
        yield from self._status_metrics()
        yield from self._xds_metrics()
        yield from self._cluster_metrics()

    def _build_metrics(self) -> Iterator[Metric]:
        stats = self.c.build_stats
        yield _gauge("contour_dag_rebuild_duration_seconds",
                     "Duration of the last DAG rebuild and translation.", stats.last_build_seconds)
        yield _counter("contour_dag_rebuilds", "DAG rebuilds.", stats.builds)
        yield _counter("contour_events", "Object events applied.", stats.events)
        yield _gauge("contour_source_errors", "Source files that fail to parse.",
                     len(self.c.source_errors))
        rejected = GaugeMetricFamily("contour_rejected_objects",
                                     "Objects refused by the validation boundary, by kind.",
                                     labels=["kind"])
        for kind, count in self.c.rejections.counts().items():
            rejected.add_metric([kind], count)
        yield rejected
        yield _gauge("contour_pruned_objects",
                     "Objects admitted with unknown or null fields pruned.",
                     len(self.c.rejections.warned))

    def _object_metrics(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("contour_objects", "Objects in the store by kind.", labels=["kind"])
        for kind, count in sorted(self.c.object_counts().items()):
            g.add_metric([kind], count)
        yield g

    def _status_metrics(self) -> Iterator[Metric]:
        """contour_ingressroute_status and contour_httpproxy_status, by status."""
        for kind, name in (("IngressRoute", "contour_ingressroute_status"),
                           ("HTTPProxy", "contour_httpproxy_status")):
            g = GaugeMetricFamily(name, f"{kind}s by status.", labels=["status"])
            counts = collections.Counter(s.current for s in self.c.statuses if s.kind == kind)
            for status in ("invalid", "orphaned", "valid"):
                g.add_metric([status], counts.get(status, 0))
            yield g

    def _xds_metrics(self) -> Iterator[Metric]:
        reg = self.c.registry
        yield _gauge("contour_xds_connected_envoys", "Connected Envoy nodes.",
                     reg.connected_nodes)
        for name, doc, counts in (("contour_xds_pushes", "xDS responses sent.", reg.pushes),
                                  ("contour_xds_nacks", "xDS NACKs received.", reg.nacks)):
            family = CounterMetricFamily(name, doc, labels=["type"])
            for type_url, n in sorted(dict(counts).items()):
                family.add_metric([type_url.rsplit(".", 1)[-1]], n)
            yield family


    def _cluster_metrics(self) -> Iterator[Metric]:
        """Watches, leadership and status writes; cluster mode only."""
        stats = self.c.watch_stats
        if stats is None:
            return
        restarts = CounterMetricFamily("contour_watch_restarts",
                                       "Watch relists and reconnects by kind.", labels=["kind"])
        for kind, n in sorted(dict(stats.restarts).items()):
            restarts.add_metric([kind], n)
        yield restarts
        synced = GaugeMetricFamily("contour_watch_last_sync_timestamp_seconds",
                                   "When each kind was last known complete (list, bookmark or "
                                   "clean end of a watch).", labels=["kind"])
        for kind, t in sorted(dict(stats.last_sync).items()):
            synced.add_metric([kind], t)
        yield synced
        yield _gauge("contour_api_reachable", "1 while every watch reaches the API server.",
                     1 if stats.api_reachable else 0)
        leader = self.c.leader
        yield _gauge("contour_leader", "1 while this replica may write status.",
                     1 if leader is None or leader.is_leader() else 0)
        writer = self.c.status_writes
        yield _counter("contour_status_writes", "IngressRoute and HTTPProxy status patches sent.",
                       writer.writes if writer is not None else 0)
        if writer is not None:
            yield _gauge("contour_status_write_window", "Status PATCHes allowed in flight now.",
                         writer.window.limit)


def _gauge(name: str, doc: str, value: float) -> Metric:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> Metric:
    return CounterMetricFamily(name, doc, value=value)


def metrics_routes(controller: StateView) -> dict[str, Any]:
    registry = CollectorRegistry()
    registry.register(ControllerCollector(controller))

    def metrics() -> Response:
        return 200, "text/plain; version=0.0.4", generate_latest(registry)

    def healthz() -> Response:
        if not controller.cache.ready:
            return text("not synced\n", 503)
        stats = controller.watch_stats
        if stats is not None and not stats.api_reachable:
            return text("API server unreachable: " + ", ".join(sorted(stats.failing)) + "\n",
                        503)
        return text("OK\n")

    def livez() -> Response:
        # liveness, unlike /healthz, ignores the API server: an outage must not get the
        # controller restarted (it keeps serving the last good configuration meanwhile)
        stalled = controller.heartbeat.stalled_for()
        if stalled > LOOP_STALL_SECONDS:
            return text(f"event loop stalled for {stalled:.0f}s\n", 503)
        return text("OK\n")

    return {"/metrics": metrics, "/healthz": healthz, "/health": healthz, "/livez": livez}


def debug_routes(controller: StateView) -> dict[str, Any]:
    return {
        "/debug/status": lambda: as_json(controller.status_rows()),
        "/debug/programmed": lambda: as_json(controller.programmed_rows()),
        "/debug/dag": lambda: text(dag_dot(controller.dag)),
        "/debug/xds": lambda: as_json(xds_status(controller)),
        "/debug/xds/resources": lambda: as_json(xds_resources(controller)),
        "/debug/sources": lambda: as_json(controller.sources_report()),
        "/debug/memory": lambda: as_json(memory.report()),
    }


def xds_status(controller: StateView) -> dict[str, Any]:
    """Per known node: what was sent and acknowledged per type, the content serial it holds
    (compare with `serials`: the controller's current ones), whether it rejects the type's
    last response, and the last NACK. `versions` and `serials` are the controller's."""
    nodes = []
    for n in controller.registry.nodes():
        types = {}
        for type_url in sorted(set(n.sent) | set(n.acked) | set(n.held)):
            last = next((k for k in reversed(n.nacks) if k.type_url == type_url), None)
            types[type_url] = {
                "sent": n.sent.get(type_url), "acked": n.acked.get(type_url),
                "held": n.held.get(type_url, 0), "rejecting": type_url in n.rejecting,
                "nack": None if last is None else {
                    "version": last.version, "error": last.message, "time": last.time},
            }
        nodes.append({"node": n.node_id, "cluster": n.cluster, "connected": n.connected,
                      "protocol": n.protocol, "firstSeen": n.first_seen,
                      "lastSeen": n.last_seen, "types": types})
    snapshot = controller.cache.snapshot
    served = served_types(snapshot, TYPE_URLS)
    return {"nodes": nodes,
            "versions": {t: snapshot.get(t).version for t in served},
            "serials": {t: snapshot.get(t).serial for t in served}}


def served_types(snapshot: Any, types: Iterable[str]) -> list[str]:
    """`types` sorted, less the layout types (scoped routes, VHDS) holding nothing: an Envoy
    that never asks for them must not look behind on a type that is not in use."""
    return sorted(t for t in types if t not in LAYOUT_TYPES or snapshot.get(t).resources)


PER_RESOURCE_TYPES = (ROUTE_TYPE, SCOPED_ROUTE_TYPE, SECRET_TYPE)
"""The types whose resources `kubectl contour diff` checks one by one: route tables and
secrets carry their own version in a delta Envoy's config_dump (listeners and clusters show
the response's); scopes show their set's, so diff compares the names held."""


def xds_resources(controller: StateView) -> dict[str, dict[str, str]]:
    """Per PER_RESOURCE_TYPES type served (`served_types`): resource name → the version the
    controller serves now, what `kubectl contour diff` compares Envoy's config_dump with.
    Endpoints are left out: Envoy's config_dump omits them unless asked, and they are 10k
    entries at 10k Services."""
    snapshot = controller.cache.snapshot
    return {t: {name: r.version for name, r in sorted(snapshot.get(t).resources.items())}
            for t in served_types(snapshot, PER_RESOURCE_TYPES)}


def start_web_servers(controller: StateView) -> list[HttpServer]:
    s = controller.settings
    servers = [
        HttpServer("metrics", s.metrics_address, s.metrics_port, metrics_routes(controller)),
        HttpServer("debug", s.debug_address, s.debug_port, debug_routes(controller)),
    ]
    for server in servers:
        server.start()
    return servers
