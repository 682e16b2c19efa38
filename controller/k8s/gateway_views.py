"""Typed views of Gateway API objects (gateway.networking.k8s.io, v1.6.3's shape): the
kinds, listeners and references; HTTPRoute's rules are in gateway_route_views.py.

Parsers never raise: a field of the wrong type, or missing, is absent. The API server's
defaults (the CRDs' `default:` values, which the folder source does not apply) are filled
in here, one place: a parentRef's group and kind, a backendRef's kind and weight, a
listener's allowedRoutes `Same`, a TLS mode `Terminate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.k8s.objects import (
    GATEWAY_GROUP,
    Key,
    as_dict,
    as_int,
    as_list,
    as_str,
    key_of,
    str_map,
)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A reference to another object (parentRef, backendRef, certificateRef), namespace
    defaulted to the holder's; `port`/`section_name` only where the kind has them."""

    group: str
    kind: str
    namespace: str
    name: str
    section_name: str = ""
    port: int | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Expression:
    """One label selector matchExpressions entry (In, NotIn, Exists, DoesNotExist)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Selector:
    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Expression, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """metav1.LabelSelector semantics: every label and every expression holds."""
        if any(labels.get(k) != v for k, v in self.labels):
            return False
        return all(_holds(e, labels) for e in self.expressions)


def _holds(e: Expression, labels: dict[str, str]) -> bool:
    if e.operator == "In":
        return labels.get(e.key) in e.values
    if e.operator == "NotIn":
        return labels.get(e.key) not in e.values
    if e.operator == "Exists":
        return e.key in labels
    return e.operator == "DoesNotExist" and e.key not in labels


@dataclass(frozen=True, slots=True)
class ListenerView:
    name: str
    port: int
    protocol: str  # HTTP | HTTPS | TLS | TCP | UDP | a domain-prefixed one
    hostname: str = ""
    tls_mode: str = ""  # Terminate | Passthrough; "" without tls
    certificate_refs: tuple[ObjectRef, ...] = ()
    routes_from: str = "Same"  # Same | All | Selector
    selector: Selector | None = None
    kinds: tuple[tuple[str, str], ...] | None = None
    """allowedRoutes.kinds as (group, kind); None: the protocol's defaults."""


@dataclass(frozen=True, slots=True)
class GatewayView:
    key: Key
    class_name: str
    listeners: tuple[ListenerView, ...]
    created: str = ""  # metadata.creationTimestamp (RFC 3339 sorts as text)


@dataclass(frozen=True, slots=True)
class GatewayClassView:
    name: str
    controller_name: str
    created: str = ""


@dataclass(frozen=True, slots=True)
class ReferenceGrantView:
    """`from` as (group, kind, namespace), `to` as (group, kind, name) with "" any name."""

    namespace: str
    sources: tuple[tuple[str, str, str], ...]
    targets: tuple[tuple[str, str, str], ...]


def service_addresses(obj: object) -> tuple[tuple[str, str], ...]:
    """A Service's addresses as Gateway `status.addresses` (type, value): its load
    balancer's ingress (IPs, then host names), else its externalIPs, else its clusterIP
    (sorted within each kind; "None" is no address)."""
    raw = as_dict(obj)
    spec, status = as_dict(raw.get("spec")), as_dict(raw.get("status"))
    ingress = [as_dict(i) for i in as_list(as_dict(status.get("loadBalancer")).get("ingress"))]
    ips = sorted({as_str(i.get("ip")) for i in ingress} - {""})
    names = sorted({as_str(i.get("hostname")) for i in ingress} - {""})
    if ips or names:
        return (*(("IPAddress", ip) for ip in ips), *(("Hostname", n) for n in names))
    external = sorted({as_str(ip) for ip in as_list(spec.get("externalIPs"))} - {""})
    if external:
        return tuple(("IPAddress", ip) for ip in external)
    cluster_ip = as_str(spec.get("clusterIP"))
    return (("IPAddress", cluster_ip),) if cluster_ip and cluster_ip != "None" else ()


def created_of(obj: object) -> str:
    return as_str(as_dict(as_dict(obj).get("metadata")).get("creationTimestamp"))


def object_ref(raw: object, holder_ns: str, *, group: str, kind: str) -> ObjectRef:
    """A reference with the CRD defaults `group` and `kind` for absent ones."""
    d = as_dict(raw)
    port = as_int(d.get("port"))
    weight = as_int(d.get("weight"))
    return ObjectRef(
        group=as_str(d.get("group")) if "group" in d else group,
        kind=as_str(d.get("kind")) or kind,
        namespace=as_str(d.get("namespace")) or holder_ns,
        name=as_str(d.get("name")),
        section_name=as_str(d.get("sectionName")),
        port=port,
        weight=1 if weight is None else weight,
    )


def parent_refs(spec: dict[str, object], holder_ns: str) -> tuple[ObjectRef, ...]:
    return tuple(object_ref(p, holder_ns, group=GATEWAY_GROUP, kind="Gateway")
                 for p in as_list(spec.get("parentRefs")))


def backend_ref(raw: object, holder_ns: str) -> ObjectRef:
    return object_ref(raw, holder_ns, group="", kind="Service")


def selector_view(raw: object) -> Selector:
    d = as_dict(raw)
    expressions = tuple(
        Expression(as_str(e.get("key")), as_str(e.get("operator")),
                   tuple(as_str(v) for v in as_list(e.get("values"))))
        for e in map(as_dict, as_list(d.get("matchExpressions"))))
    return Selector(tuple(sorted(str_map(d.get("matchLabels")).items())), expressions)


def listener_view(raw: object, holder_ns: str) -> ListenerView:
    d = as_dict(raw)
    tls = as_dict(d.get("tls"))
    allowed = as_dict(d.get("allowedRoutes"))
    namespaces = as_dict(allowed.get("namespaces"))
    routes_from = as_str(namespaces.get("from")) or "Same"
    kinds = None
    if "kinds" in allowed:
        kinds = tuple((as_str(k.get("group")) if "group" in k else GATEWAY_GROUP,
                       as_str(k.get("kind"))) for k in map(as_dict, as_list(allowed["kinds"])))
    return ListenerView(
        name=as_str(d.get("name")), port=as_int(d.get("port")) or 0,
        protocol=as_str(d.get("protocol")), hostname=as_str(d.get("hostname")).lower(),
        tls_mode=(as_str(tls.get("mode")) or "Terminate") if "tls" in d else "",
        certificate_refs=tuple(object_ref(c, holder_ns, group="", kind="Secret")
                               for c in as_list(tls.get("certificateRefs"))),
        routes_from=routes_from,
        selector=selector_view(namespaces.get("selector")) if routes_from == "Selector"
        else None,
        kinds=kinds,
    )


def gateway_view(obj: object) -> GatewayView:
    key = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    return GatewayView(
        key, as_str(spec.get("gatewayClassName")),
        tuple(listener_view(li, key[0]) for li in as_list(spec.get("listeners"))),
        created_of(obj))


def gateway_class_view(obj: object) -> GatewayClassView:
    spec = as_dict(as_dict(obj).get("spec"))
    return GatewayClassView(key_of(obj)[1], as_str(spec.get("controllerName")), created_of(obj))


def reference_grant_view(obj: object) -> ReferenceGrantView:
    spec = as_dict(as_dict(obj).get("spec"))
    sources = tuple((as_str(f.get("group")), as_str(f.get("kind")), as_str(f.get("namespace")))
                    for f in map(as_dict, as_list(spec.get("from"))))
    targets = tuple((as_str(t.get("group")), as_str(t.get("kind")), as_str(t.get("name")))
                    for t in map(as_dict, as_list(spec.get("to"))))
    return ReferenceGrantView(key_of(obj)[0], sources, targets)
