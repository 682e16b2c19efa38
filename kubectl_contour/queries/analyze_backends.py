"""Findings about the backends of routes (CTR2003-CTR2007): Services without ready
endpoints, weights that send nothing or mean nothing, and health checks Envoy reports
failing.

Served routes (the DAG's) are looked at, a route the builder refused having its own
finding; only weights written all 0 are read from the objects (the DAG cannot tell them
from omitted ones). Endpoints are judged only where they are known: in a cluster every Service's are
(none listed: none ready); a folder usually holds none, so there only Services the folder
has Endpoints or EndpointSlices for are judged. Shares are Envoy's (spec §3.5, route.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubectl_contour.objects import ENDPOINTS, ENDPOINTSLICE, Key, Snapshot, key_of, namespace_of
from kubectl_contour.queries.analyze_model import Finding, Inputs, finding, held_proxies
from kubectl_contour.queries.analyze_routes import owner
from kubectl_contour.queries.endpoints import SERVICE_NAME_LABEL
from kubectl_contour.queries.matching import describe_match

Served = tuple[str, Any, str]
"""(host, route or TCP proxy, what it matches in words)."""


def backend_findings(inputs: Inputs) -> Iterator[Finding]:
    for host, route, match in served(inputs.dag):
        yield from endpoint_findings(inputs.snapshot, host, route, match)
        yield from weight_findings(host, route, match)
    yield from zero_weights(inputs)
    yield from health_findings(inputs)


def served(dag: Any) -> Iterator[Served]:
    """Every route of every vhost, and every TCP proxy (the same route on ports 80 and 443
    gives the same findings, which analyze.py merges)."""
    for vhost in (*dag.http, *dag.https):
        for route in vhost.routes:
            yield vhost.host, route, describe_match(route)
        tcp = getattr(vhost, "tcp_proxy", None)
        if tcp is not None:
            yield vhost.host, tcp, "tcpproxy"


def known(snapshot: Snapshot, key: Key) -> bool:
    """Are the Service's endpoints known (see the module's docstring)?"""
    if snapshot.live or snapshot.get(ENDPOINTS, key) is not None:
        return True
    return any(namespace_of(s) == key[0] and ((s.get("metadata") or {}).get("labels") or {})
               .get(SERVICE_NAME_LABEL) == key[1] for s in snapshot.of_kind(ENDPOINTSLICE))


def endpoint_findings(snapshot: Snapshot, host: str, route: Any, match: str
                      ) -> Iterator[Finding]:
    """CTR2003 when no backend with traffic has a ready endpoint, else CTR2004 for each
    that has none. ExternalName Services have no endpoints to judge."""
    from kubectl_contour.queries.route import backends_of

    if not route.clusters:
        return  # Envoy answers itself (direct response, redirect)
    carrying = [b for b in backends_of(snapshot, route) if b.share > 0]
    judged = [b for b in carrying
              if not b.external_name and known(snapshot, (b.namespace, b.service))]
    dark = [b for b in judged if b.ready == 0]
    if not dark:
        return
    kind, key = owner(route)
    if len(dark) == len(carrying):
        names = ", ".join(f"{b.namespace}/{b.service}:{b.port}" for b in dark)
        yield finding("CTR2003", kind, key, f"{match} on {host}: no ready endpoint behind "
                      f"{names}: every request gets 503")
        return
    for b in dark:
        yield finding("CTR2004", kind, key, f"{match} on {host}: Service {b.namespace}/"
                      f"{b.service}:{b.port} has no ready endpoint ({b.not_ready} not ready): "
                      f"its {b.share:g}% of requests get 503")


def weight_findings(host: str, route: Any, match: str) -> Iterator[Finding]:
    """CTR2005: a 0 weight (written or omitted) next to weighted services. TCP proxies
    weigh every service alike: not judged."""
    clusters = route.clusters
    if len(clusters) < 2 or match == "tcpproxy" or not any(c.weight for c in clusters):
        return
    kind, key = owner(route)
    for c in clusters:
        if c.weight == 0:
            svc = c.service
            yield finding("CTR2005", kind, key, f"{match} on {host}: Service {svc.namespace}/"
                          f"{svc.name}:{svc.port} has weight 0 while others are weighted: "
                          "it gets no traffic")


def zero_weights(inputs: Inputs) -> Iterator[Finding]:
    """CTR2006: a route of an object the controller holds whose services are all weighted
    0 in writing; the weights mean nothing then (Envoy splits evenly, spec §3.5), which is
    no drain. Omitted weights are the usual way to ask for an even split: not reported."""
    from kubectl_contour.queries.proxies import entries

    for kind, obj in held_proxies(inputs):
        for e in entries(kind, obj):
            if e.field == "routes" and len(e.services) > 1 and \
                    all(s.weight == 0 for s in e.services):
                yield finding("CTR2006", kind, key_of(obj), f"route {e.match}: every service "
                              f"is weighted 0, so each of the {len(e.services)} gets an even "
                              "share")


def health_findings(inputs: Inputs) -> Iterator[Finding]:
    """CTR2007: hosts of a health-checked cluster that an Envoy flags failed_active_hc."""
    checked = checked_clusters(inputs.dag)
    for envoy, clusters_json in inputs.envoys:
        for status in (clusters_json or {}).get("cluster_statuses") or []:
            users = checked.get(str(status.get("name") or ""), [])
            hosts = status.get("host_statuses") or []
            failing = failing_hosts(hosts)
            for host, route, cluster in users if failing else ():
                kind, key = owner(route)
                svc, hc = cluster.service, cluster.health_check
                yield finding("CTR2007", kind, key, f"{describe_match(route)} on {host}: "
                              f"health check {hc.path} on Service {svc.namespace}/{svc.name}:"
                              f"{svc.port} fails on {len(failing)} of {len(hosts)} endpoints "
                              f"({', '.join(failing)}) in Envoy {envoy}")


def failing_hosts(hosts: list[Any]) -> list[str]:
    """The addresses Envoy's /clusters (JSON) flags failed_active_health_check, sorted."""
    from kubectl_contour.queries.envoy import address

    return sorted(address(h.get("address")) for h in hosts
                  if (h.get("health_status") or {}).get("failed_active_health_check"))


def checked_clusters(dag: Any) -> dict[str, list[tuple[str, Any, Any]]]:
    """Envoy cluster name → (host, route, cluster) of each use of a health-checked cluster."""
    from controller.envoy.names import cluster_name

    out: dict[str, list[tuple[str, Any, Any]]] = {}
    for vhost in (*dag.http, *dag.https):
        for route in vhost.routes:
            for c in route.clusters:
                if c.health_check is not None:
                    out.setdefault(cluster_name(c), []).append((vhost.host, route, c))
    return out

