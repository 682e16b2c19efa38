"""Raw Kubernetes objects (plain dicts) and the one snapshot every command reads.

Cluster mode and `--from-dir` both end in a `Snapshot`; everything after loading is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

INGRESSROUTE = "IngressRoute"
HTTPPROXY = "HTTPProxy"
DELEGATION = "TLSCertificateDelegation"
SERVICE = "Service"
SECRET = "Secret"
INGRESS = "Ingress"
ENDPOINTS = "Endpoints"
ENDPOINTSLICE = "EndpointSlice"
NAMESPACE = "Namespace"
GATEWAY_CLASS = "GatewayClass"
GATEWAY = "Gateway"
HTTPROUTE = "HTTPRoute"
GRPCROUTE = "GRPCRoute"
TLSROUTE = "TLSRoute"
REFERENCE_GRANT = "ReferenceGrant"

GATEWAY_ROUTE_KINDS = (HTTPROUTE, GRPCROUTE, TLSROUTE)
GATEWAY_KINDS = (GATEWAY_CLASS, GATEWAY, *GATEWAY_ROUTE_KINDS, REFERENCE_GRANT)
"""The Gateway API kinds the plugin reads (controller/sources/cluster.py GATEWAY_API_KINDS),
plus Namespaces for their labels (listeners' allowedRoutes selectors)."""
CLUSTER_SCOPED = frozenset({NAMESPACE, GATEWAY_CLASS})

BUILDER_KINDS = (SERVICE, SECRET, INGRESS, INGRESSROUTE, HTTPPROXY, DELEGATION, *GATEWAY_KINDS,
                 NAMESPACE)
"""Kinds the DAG builder's store takes; endpoints are read by the plugin itself."""

API_VERSIONS = {
    INGRESSROUTE: "contour.heptio.com/v1beta1",
    HTTPPROXY: "projectcontour.io/v1",
    DELEGATION: "contour.heptio.com/v1beta1",
    SERVICE: "v1",
    SECRET: "v1",
    INGRESS: "networking.k8s.io/v1",
    ENDPOINTS: "v1",
    ENDPOINTSLICE: "discovery.k8s.io/v1",
    NAMESPACE: "v1",
    **dict.fromkeys((GATEWAY_CLASS, GATEWAY, *GATEWAY_ROUTE_KINDS),
                    "gateway.networking.k8s.io/v1"),
    REFERENCE_GRANT: "gateway.networking.k8s.io/v1beta1",
}

Key = tuple[str, str]
"""(namespace, name)."""


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: Obj) -> str:
    """The namespace; "" for a cluster-scoped kind (the controller's key_of reading)."""
    if obj.get("kind") in CLUSTER_SCOPED:
        return ""
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def key_of(obj: Obj) -> Key:
    return (namespace_of(obj), name_of(obj))


def ref(key: Key) -> str:
    """`ns/name`, the way Contour prints object references."""
    return f"{key[0]}/{key[1]}"


def spec_of(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def routes_of(obj: Obj) -> list[dict[str, Any]]:
    routes = spec_of(obj).get("routes")
    return [r for r in routes if isinstance(r, dict)] if isinstance(routes, list) else []


def fqdn_of(obj: Obj) -> str | None:
    """The root's fqdn, or None for a delegate (no virtualhost)."""
    vhost = spec_of(obj).get("virtualhost")
    if not isinstance(vhost, dict):
        return None
    return str(vhost.get("fqdn") or "")


def tls_secret_of(obj: Obj) -> str:
    vhost = spec_of(obj).get("virtualhost")
    tls = vhost.get("tls") if isinstance(vhost, dict) else None
    return str(tls.get("secretName") or "") if isinstance(tls, dict) else ""


def delegate_key(route: dict[str, Any], *, owner_namespace: str) -> Key | None:
    """Where a route delegates to; the namespace defaults to the route owner's (spec §1.4)."""
    delegate = route.get("delegate")
    if not isinstance(delegate, dict):
        return None
    return (str(delegate.get("namespace") or owner_namespace), str(delegate.get("name") or ""))


def stored_status(obj: Obj) -> tuple[str, str]:
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    assert isinstance(status, dict)
    return (str(status.get("currentStatus") or ""), str(status.get("description") or ""))


@dataclass(frozen=True, slots=True, order=True)
class Rejected:
    """An object the validation boundary refused: the controller treats it as absent."""

    kind: str
    namespace: str
    name: str
    source: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every valid object the plugin read, from one cluster or one folder, and the ones the
    validation boundary refused."""

    objects: tuple[Obj, ...]
    live: bool = False
    """True when read from a cluster (stored statuses are meaningful, writes possible)."""
    source: str = ""
    rejected: tuple[Rejected, ...] = ()
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False,
                                               repr=False)
    """perf: each kind's sorted objects and index, built on first use (`analyze` looks
    objects up per route: rebuilding them per lookup made it quadratic). The objects of a
    snapshot never change."""

    def of_kind(self, kind: str) -> list[Obj]:
        found = self._cache.get(("list", kind))
        if found is None:
            found = self._cache[("list", kind)] = sorted(
                (o for o in self.objects if o.get("kind") == kind), key=key_of)
        return list(found)

    def index(self, kind: str) -> dict[Key, Obj]:
        """key → object of one kind (shared between callers: never modify it)."""
        found = self._cache.get(("index", kind))
        if found is None:
            found = self._cache[("index", kind)] = {key_of(o): o for o in self.of_kind(kind)}
        return found  # type: ignore[no-any-return]

    def get(self, kind: str, key: Key) -> Obj | None:
        return self.index(kind).get(key)

    def replaced(self, obj: Obj) -> Snapshot:
        """A copy with `obj` replacing the object of the same kind and key."""
        kind, key = obj.get("kind"), key_of(obj)
        kept = [o for o in self.objects if not (o.get("kind") == kind and key_of(o) == key)]
        return Snapshot(objects=(*kept, obj), live=self.live, source=self.source,
                        rejected=self.rejected)
