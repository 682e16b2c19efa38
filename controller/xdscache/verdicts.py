"""Envoy's verdict on a cluster or a virtual host, kept by shape.

`violations()` (controller/envoy/constraints.py) walks a whole resource: ~10 µs a cluster or
a vhost, as much again as building it, so a 10k cold start would pay ~0.2 s for the checks
alone (bench/bench_constraints.py). But what differs from one service or host to the next
is mostly identity: the names derived from a namespace, a name, a port, a host. Those land
in fields whose only rules are "not empty" (names are hashes, never empty) and, for the
vhost's domain, "no NUL, CR or LF". So the walk is done once per shape — the DAG value with
its identity left out — and each resource adds only the checks of its identity fields. A
shape the memo has not seen is walked; so the verdict is always the full checker's
(tests/controller/xdscache/test_xdscache_verdicts.py compares them).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import fields
from typing import Any

from controller.dag import model
from controller.envoy import pb
from controller.envoy.constraints import describe, field_check, violations
from controller.xdscache.clusters import ClusterKey

MAX_SHAPES = 4096
_VHOST_NAME = field_check(pb.VirtualHost, "name")
_DOMAIN = field_check(pb.VirtualHost, "domains")
_CLUSTER_NAME = field_check(pb.Cluster, "name")
# Paths whose violations only identity can cause: left out of a shape's verdict.
_VHOST_IDENTITY = ("name:", "domains")
_CLUSTER_IDENTITY = ("name:", "alt_stat_name:", "eds_cluster_config.service_name:")
_SERVICE_IDENTITY = frozenset({"namespace", "name", "port_name", "port"})
_SERVICE_FIELDS = tuple(f.name for f in fields(model.ServicePort))
_ROUTE_FIELDS = tuple(f.name for f in fields(model.Route)
                      if f.name not in ("clusters", "mirrors", "provenance"))
# What a vhost's own policies add to its shape (a CORS policy, IP rules, a rate limit).
_VHOST_POLICIES = ("cors", "ip_filter", "rate_limit")
_UPSTREAM_FIELDS = tuple(f.name for f in fields(model.Cluster) if f.name != "service")


class Verdicts:
    """`Envoy would reject ...` or None, for freshly built clusters and vhosts."""

    def __init__(self) -> None:
        self._clusters: dict[Hashable, tuple[str, ...]] = {}
        self._vhosts: dict[Hashable, tuple[str, ...]] = {}

    def forget(self) -> None:
        """Drop every kept verdict: shapes are keyed by content, so they outlive the objects
        that had them (after a mass removal: controller/app.py)."""
        self._clusters.clear()
        self._vhosts.clear()

    def cluster(self, key: ClusterKey, built: pb.Cluster) -> str | None:
        found = self._shape_verdict(self._clusters, cluster_shape(key), built,
                                    _CLUSTER_IDENTITY)
        return describe(f"cluster {built.name!r}", _own("name", _CLUSTER_NAME, built.name) + found)

    def vhost(self, value: model.VirtualHost | model.SecureVirtualHost, secure: bool,
              built: pb.VirtualHost) -> str | None:
        host = value.host
        shape = (secure, tuple(getattr(value, f) for f in _VHOST_POLICIES),
                 tuple(route_shape(r) for r in value.routes))
        found = self._shape_verdict(self._vhosts, shape, built, _VHOST_IDENTITY)
        identity = _own("name", _VHOST_NAME, built.name)
        for i, domain in enumerate(built.domains):
            identity += _own(f"domains[{i}]", _DOMAIN, domain)
        return describe(f"virtual host {host!r}", identity + found)

    @staticmethod
    def _shape_verdict(memo: dict[Hashable, tuple[str, ...]], shape: Hashable, built: Any,
                       identity: tuple[str, ...]) -> tuple[str, ...]:
        found = memo.get(shape)
        if found is None:
            if len(memo) >= MAX_SHAPES:
                memo.clear()
            found = memo[shape] = tuple(v for v in violations(built)
                                        if not v.startswith(identity))
        return found


def _own(path: str, check: Any, value: str) -> tuple[str, ...]:
    reason = check(value) if check is not None else None
    return () if reason is None else (f"{path}: {reason}",)


def cluster_shape(key: ClusterKey) -> Hashable:
    """A cluster key without the service's identity (an ExternalName's port stays: it is
    the endpoint's port)."""
    service, *rest = key
    kept = tuple(getattr(service, f) for f in _SERVICE_FIELDS if f not in _SERVICE_IDENTITY)
    return (kept, service.port if service.external_name else None, *rest)


def route_shape(route: model.Route) -> Hashable:
    """A route without the identity of its services and mirrors (their cluster names are
    hashes) or its provenance (not translated)."""
    return (tuple(getattr(route, f) for f in _ROUTE_FIELDS),
            _upstream_shapes(route.clusters), _upstream_shapes(route.mirrors))


def _upstream_shapes(clusters: Sequence[model.Cluster]) -> Hashable:
    return tuple(tuple(getattr(c, f) for f in _UPSTREAM_FIELDS) for c in clusters)
