"""Whether an Envoy serves a rollout step: the shares its routes give each Service (from
`/config_dump`), against the shares the builder's DAG of that step gives them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubectl_contour.queries.envoy import (
    PATH_MATCHERS,
    cluster_services,
    dag_path,
    envoy_path,
    route_clusters,
    vhost_routes,
)

Shares = tuple[tuple[str, float], ...]
"""(stat name `ns_service_port`, share of the route's requests), sorted."""
Expected = dict[tuple[str, str], list[Shares]]
"""(path matcher, value) → the shares of each route with that path (header conditions may
make several)."""


def shares(weights: Iterable[tuple[str, int]]) -> Shares:
    """Weights per cluster → shares per stat name (all zero: equal, as Envoy splits)."""
    pairs = list(weights)
    if not any(w for _, w in pairs):
        pairs = [(n, 1) for n, _ in pairs]
    whole = sum(w for _, w in pairs)
    out: dict[str, float] = {}
    for name, w in pairs:
        out[name] = out.get(name, 0.0) + w / whole
    return tuple(sorted((n, round(s, 4)) for n, s in out.items()))


def stat_name(cluster: Any) -> str:
    svc = cluster.service
    return f"{svc.namespace}_{svc.name}_{svc.port}"


def expected_shares(routes: Iterable[Any]) -> Expected:
    """The shares of DAG routes that forward (a port-80 redirect has no backends)."""
    out: Expected = {}
    for route in routes:
        if route.clusters and not route.https_redirect:
            out.setdefault(dag_path(route), []).append(
                shares((stat_name(c), c.weight) for c in route.clusters))
    return out


def served_shares(routes_dump: dict[str, Any], clusters_dump: dict[str, Any],
                  fqdns: Iterable[str]) -> Expected:
    """The shares the Envoy's routes for `fqdns` give (cluster names → stat names)."""
    names = cluster_services(clusters_dump)
    out: Expected = {}
    for fqdn in sorted(set(fqdns)):
        for route in vhost_routes(routes_dump, fqdn):
            matcher = next((m for m in PATH_MATCHERS if m in (route.get("match") or {})), "")
            if "route" in route and matcher:
                out.setdefault((matcher, str(envoy_path(route, matcher))), []).append(
                    shares((names.get(n, n), w) for n, w in route_clusters(route)))
    return out


def missing(expected: Expected, served: Expected) -> list[str]:
    """Each expected route's shares that the Envoy does not serve (empty: it serves all)."""
    out = []
    for (matcher, value), wanted in sorted(expected.items()):
        for want in wanted:
            if want not in served.get((matcher, value), []):
                text = ", ".join(f"{n} {s:.0%}" for n, s in want)
                out.append(f"{matcher} {value} not yet routed to {text}")
    return out
