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
from operator import attrgetter
from typing import Any

from controller.dag import model
from controller.envoy import pb
from controller.envoy.constraints import describe, field_check, is_ip, violations
from controller.xdscache.clusters import ClusterKey

MAX_SHAPES = 4096
_VHOST_NAME = field_check(pb.VirtualHost, "name")
_DOMAIN = field_check(pb.VirtualHost, "domains")
_CLUSTER_NAME = field_check(pb.Cluster, "name")
_ASSIGNMENT_NAME = field_check(pb.ClusterLoadAssignment, "cluster_name")
_ADDRESS = field_check(pb.SocketAddress, "address")
_PORT = field_check(pb.SocketAddress, "port_value")
# Paths whose violations only identity can cause: left out of a shape's verdict.
_VHOST_IDENTITY = ("name:", "domains")
_CLUSTER_IDENTITY = ("name:", "alt_stat_name:", "eds_cluster_config.service_name:")
_SERVICE_IDENTITY = frozenset({"namespace", "name", "port_name", "port"})
# perf: each shape's fields are read by one attrgetter (C), not a generator of getattr()s
# (the shapes of 10k vhosts and clusters were ~4 % of a cold start, py-spy)
_SERVICE_SHAPE = attrgetter(*(f.name for f in fields(model.ServicePort)
                              if f.name not in _SERVICE_IDENTITY))
_ROUTE_SHAPE = attrgetter(*(f.name for f in fields(model.Route)
                            if f.name not in ("clusters", "mirrors", "provenance")))
# What a vhost's own policies add to its shape (a CORS policy, IP rules, a rate limit).
_VHOST_POLICIES = attrgetter("cors", "ip_filter", "rate_limit")
_UPSTREAM_SHAPE = attrgetter(*(f.name for f in fields(model.Cluster) if f.name != "service"))


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
        shape = (secure, _VHOST_POLICIES(value), tuple(map(route_shape, value.routes)))
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
    return (_SERVICE_SHAPE(service), service.port if service.external_name else None, *rest)


def route_shape(route: model.Route) -> Hashable:
    """A route without the identity of its services and mirrors (their cluster names are
    hashes) or its provenance (not translated)."""
    return (_ROUTE_SHAPE(route), _upstream_shapes(route.clusters),
            _upstream_shapes(route.mirrors))


def _upstream_shapes(clusters: Sequence[model.Cluster]) -> Hashable:
    return tuple(map(_UPSTREAM_SHAPE, clusters))


_CLEAN_ASSIGNMENTS: set[int] = set()
"""Endpoint counts for which an `ip_port_assignment` with clean identity passed the walk."""


def assignment_rejection(what: str, name: str, targets: Sequence[tuple[str, int]],
                         built: pb.ClusterLoadAssignment) -> str | None:
    """`rejection(what, built)` for `built = ip_port_assignment(name, targets)`.

    Such assignments differ only in identity: the name, and each endpoint's address and
    port (the rest is one locality of `len(targets)` endpoints, all else default). So
    when each of those passes its own checks (the PGV rules of its field, and Envoy's
    "an IP address" for an EDS socket address) and an assignment of the same count
    already passed the full walk, the walk is skipped. Anything else is walked (perf:
    the walk was ~9 µs an assignment, 10k of them at a cold start)."""
    clean = _clean_identity(name, targets)
    if clean and len(targets) in _CLEAN_ASSIGNMENTS:
        return None
    found = violations(built)
    if clean and not found:
        _CLEAN_ASSIGNMENTS.add(len(targets))
    return describe(what, found)


def _clean_identity(name: str, targets: Sequence[tuple[str, int]]) -> bool:
    if _own("cluster_name", _ASSIGNMENT_NAME, name):
        return False
    return all(is_ip(ip) and not _own("address", _ADDRESS, ip)
               and (_PORT is None or _PORT(port) is None) for ip, port in targets)
