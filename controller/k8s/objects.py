"""Kubernetes objects as the controller reads them: raw dicts in, small typed views out.

Objects arrive as parsed JSON/YAML and may be malformed in any way (the folder source does
no schema validation, and even the API server lets some shapes through). The `TypedDict`s
below document the fields that are read; the `*View` dataclasses are what the store keeps
after a tolerant parse: a field of the wrong type, or missing, is treated as absent. The
parse never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

INGRESSROUTE = "IngressRoute"
TLS_CERTIFICATE_DELEGATION = "TLSCertificateDelegation"
INGRESS = "Ingress"
SERVICE = "Service"
SECRET = "Secret"
ENDPOINTS = "Endpoints"
ENDPOINT_SLICE = "EndpointSlice"
NAMESPACE = "Namespace"
INGRESS_CLASS = "IngressClass"

CLUSTER_SCOPED = frozenset({NAMESPACE, INGRESS_CLASS})

Key = tuple[str, str]
"""(namespace, name); namespace is "" for cluster-scoped kinds."""

Obj = dict[str, Any]


# -- raw shapes (documentation for readers and for mypy at the edges) ----------------------


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    annotations: dict[str, str]
    resourceVersion: str


class RawIRService(TypedDict, total=False):
    name: str
    port: int
    weight: int
    strategy: str
    healthCheck: dict[str, Any]
    validation: dict[str, str]  # {caSecret, subjectName}


class RawIRRoute(TypedDict, total=False):
    match: str
    services: list[RawIRService]
    delegate: dict[str, str]  # {name, namespace}
    enableWebsockets: bool
    permitInsecure: bool
    prefixRewrite: str
    timeoutPolicy: dict[str, str]  # {request}
    retryPolicy: dict[str, Any]  # {count, perTryTimeout}


class RawIngressRouteSpec(TypedDict, total=False):
    virtualhost: dict[str, Any]  # {fqdn, tls: {secretName, minimumProtocolVersion, passthrough}}
    routes: list[RawIRRoute]
    tcpproxy: dict[str, Any]  # {services, delegate}


class RawIngressSpec(TypedDict, total=False):
    ingressClassName: str
    defaultBackend: dict[str, Any]  # {service: {name, port: {number|name}}}
    rules: list[dict[str, Any]]  # [{host, http: {paths: [{path, pathType, backend}]}}]
    tls: list[dict[str, Any]]  # [{hosts, secretName}]


# -- tolerant accessors -------------------------------------------------------------------


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: object) -> int | None:
    """An integer, or None. bool is not an int here (YAML `true` is not a port)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def as_bool(value: object) -> bool:
    return value is True


def str_map(value: object) -> dict[str, str]:
    """A string→string map (annotations); entries of any other type are dropped."""
    return {k: v for k, v in as_dict(value).items() if isinstance(k, str) and isinstance(v, str)}


def kind_of(obj: object) -> str:
    return as_str(as_dict(obj).get("kind"))


def key_of(obj: object) -> Key:
    """(namespace, name); a namespaced object without a namespace lives in `default`,
    as `kubectl apply` would put it."""
    raw = as_dict(obj)
    meta = as_dict(raw.get("metadata"))
    name = as_str(meta.get("name"))
    if as_str(raw.get("kind")) in CLUSTER_SCOPED:
        return ("", name)
    return (as_str(meta.get("namespace")) or "default", name)


def annotations_of(obj: object) -> dict[str, str]:
    return str_map(as_dict(as_dict(obj).get("metadata")).get("annotations"))


# -- IngressRoute ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthCheckView:
    path: str
    host: str
    interval_seconds: int
    timeout_seconds: int
    unhealthy_threshold: int
    healthy_threshold: int


@dataclass(frozen=True, slots=True)
class ValidationView:
    ca_secret: str
    subject_name: str


@dataclass(frozen=True, slots=True)
class IRServiceView:
    name: str
    port: int  # 0 when absent or not an integer: reported as out of range
    weight: int
    strategy: str
    health_check: HealthCheckView | None = None
    validation: ValidationView | None = None


@dataclass(frozen=True, slots=True)
class RetryView:
    count: int
    per_try_timeout: str


@dataclass(frozen=True, slots=True)
class IRRouteView:
    match: str
    services: tuple[IRServiceView, ...] = ()
    delegate: Key | None = None  # namespace already defaulted to the holder's namespace
    websockets: bool = False
    permit_insecure: bool = False
    prefix_rewrite: str = ""
    timeout: str | None = None  # timeoutPolicy.request as written; None when no policy
    retry: RetryView | None = None


@dataclass(frozen=True, slots=True)
class TLSView:
    secret_name: str
    min_version: str
    passthrough: bool


@dataclass(frozen=True, slots=True)
class TCPProxyView:
    services: tuple[IRServiceView, ...]
    delegate: Key | None


@dataclass(frozen=True, slots=True)
class IngressRouteView:
    namespace: str
    name: str
    is_root: bool  # spec.virtualhost present
    fqdn: str = ""
    tls: TLSView | None = None
    routes: tuple[IRRouteView, ...] | None = None  # None: no `routes` key (matters, §1.2)
    tcpproxy: TCPProxyView | None = None

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


def _health_check(raw: object) -> HealthCheckView | None:
    if not isinstance(raw, dict):
        return None

    def count(field: str) -> int:
        # Envoy takes uint32 thresholds and bounded durations: anything else means "default".
        n = as_int(raw.get(field))
        return n if n is not None and 0 <= n < 2**31 else 0

    return HealthCheckView(
        path=as_str(raw.get("path")),
        host=as_str(raw.get("host")),
        interval_seconds=count("intervalSeconds"),
        timeout_seconds=count("timeoutSeconds"),
        unhealthy_threshold=count("unhealthyThresholdCount"),
        healthy_threshold=count("healthyThresholdCount"),
    )


def _validation(raw: object) -> ValidationView | None:
    if not isinstance(raw, dict):
        return None
    return ValidationView(as_str(raw.get("caSecret")), as_str(raw.get("subjectName")))


def _ir_service(raw: object) -> IRServiceView:
    d = as_dict(raw)
    return IRServiceView(
        name=as_str(d.get("name")),
        port=as_int(d.get("port")) or 0,
        weight=as_int(d.get("weight")) or 0,
        strategy=as_str(d.get("strategy")),
        health_check=_health_check(d.get("healthCheck")),
        validation=_validation(d.get("validation")),
    )


def _delegate(raw: object, namespace: str) -> Key | None:
    if not isinstance(raw, dict):
        return None
    return (as_str(raw.get("namespace")) or namespace, as_str(raw.get("name")))


def _retry(raw: object) -> RetryView | None:
    if not isinstance(raw, dict):
        return None
    return RetryView(as_int(raw.get("count")) or 0, as_str(raw.get("perTryTimeout")))


def _ir_route(raw: object, namespace: str) -> IRRouteView:
    d = as_dict(raw)
    timeout_policy = d.get("timeoutPolicy")
    return IRRouteView(
        match=as_str(d.get("match")),
        services=tuple(_ir_service(s) for s in as_list(d.get("services"))),
        delegate=_delegate(d.get("delegate"), namespace),
        websockets=as_bool(d.get("enableWebsockets")),
        permit_insecure=as_bool(d.get("permitInsecure")),
        prefix_rewrite=as_str(d.get("prefixRewrite")),
        timeout=(
            as_str(timeout_policy.get("request")) if isinstance(timeout_policy, dict) else None
        ),
        retry=_retry(d.get("retryPolicy")),
    )


def _tls(raw: object) -> TLSView | None:
    if not isinstance(raw, dict):
        return None
    return TLSView(
        secret_name=as_str(raw.get("secretName")),
        min_version=as_str(raw.get("minimumProtocolVersion")),
        passthrough=as_bool(raw.get("passthrough")),
    )


def _tcpproxy(raw: object, namespace: str) -> TCPProxyView | None:
    if not isinstance(raw, dict):
        return None
    services = tuple(_ir_service(s) for s in as_list(raw.get("services")))
    return TCPProxyView(services, _delegate(raw.get("delegate"), namespace))


def ingressroute_view(obj: object) -> IngressRouteView:
    namespace, name = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    vhost = spec.get("virtualhost")
    routes = spec.get("routes")
    return IngressRouteView(
        namespace=namespace,
        name=name,
        is_root=isinstance(vhost, dict),
        fqdn=as_str(as_dict(vhost).get("fqdn")),
        tls=_tls(as_dict(vhost).get("tls")),
        routes=tuple(_ir_route(r, namespace) for r in routes) if isinstance(routes, list) else None,
        tcpproxy=_tcpproxy(spec.get("tcpproxy"), namespace),
    )


# -- Ingress (networking.k8s.io/v1, with the v1beta1 backend shape tolerated) ---------------


@dataclass(frozen=True, slots=True)
class BackendView:
    service: str
    port_number: int | None
    port_name: str


@dataclass(frozen=True, slots=True)
class IngressPathView:
    path: str
    path_type: str  # "", "ImplementationSpecific", "Prefix", "Exact" (as written)
    backend: BackendView | None


@dataclass(frozen=True, slots=True)
class IngressRuleView:
    host: str
    paths: tuple[IngressPathView, ...]


@dataclass(frozen=True, slots=True)
class IngressTLSView:
    hosts: tuple[str, ...]
    secret_name: str


@dataclass(frozen=True, slots=True)
class IngressView:
    namespace: str
    name: str
    annotations: dict[str, str]
    rules: tuple[IngressRuleView, ...]  # the default backend is the last rule, host ""
    tls: tuple[IngressTLSView, ...]

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


def _backend(raw: object) -> BackendView | None:
    d = as_dict(raw)
    service = d.get("service")
    if isinstance(service, dict):  # networking.k8s.io/v1
        port = as_dict(service.get("port"))
        return BackendView(
            as_str(service.get("name")), as_int(port.get("number")), as_str(port.get("name"))
        )
    if "serviceName" in d:  # extensions/v1beta1: servicePort is an int or a string
        port_value = d.get("servicePort")
        return BackendView(as_str(d.get("serviceName")), as_int(port_value), as_str(port_value))
    return None


def _ingress_path(raw: object) -> IngressPathView:
    d = as_dict(raw)
    return IngressPathView(
        as_str(d.get("path")), as_str(d.get("pathType")), _backend(d.get("backend"))
    )


def _ingress_rules(spec: dict[str, Any]) -> tuple[IngressRuleView, ...]:
    rules = []
    for raw in as_list(spec.get("rules")):
        rule = as_dict(raw)
        http = rule.get("http")
        if not isinstance(http, dict):
            continue  # a rule without `http` contributes nothing (spec §2.1)
        paths = tuple(_ingress_path(p) for p in as_list(http.get("paths")))
        rules.append(IngressRuleView(as_str(rule.get("host")), paths))
    default = spec.get("defaultBackend", spec.get("backend"))
    if isinstance(default, dict):
        rules.append(IngressRuleView("", (IngressPathView("", "", _backend(default)),)))
    return tuple(rules)


def ingress_view(obj: object) -> IngressView:
    namespace, name = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    tls = tuple(
        IngressTLSView(
            tuple(h for h in as_list(as_dict(t).get("hosts")) if isinstance(h, str)),
            as_str(as_dict(t).get("secretName")),
        )
        for t in as_list(spec.get("tls"))
    )
    return IngressView(namespace, name, annotations_of(obj), _ingress_rules(spec), tls)


def ingress_class_name(obj: object) -> str:
    return as_str(as_dict(as_dict(obj).get("spec")).get("ingressClassName"))


# -- Service --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServicePortView:
    name: str
    port: int


@dataclass(frozen=True, slots=True)
class ServiceView:
    namespace: str
    name: str
    annotations: dict[str, str]
    type: str
    external_name: str
    ports: tuple[ServicePortView, ...]


def service_view(obj: object) -> ServiceView:
    namespace, name = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    ports = []
    for raw in as_list(spec.get("ports")):
        port = as_int(as_dict(raw).get("port"))
        if port is not None and 1 <= port <= 65535:
            ports.append(ServicePortView(as_str(as_dict(raw).get("name")), port))
    return ServiceView(
        namespace,
        name,
        annotations_of(obj),
        as_str(spec.get("type")),
        as_str(spec.get("externalName")),
        tuple(ports),
    )


# -- TLSCertificateDelegation ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DelegationView:
    """Grants `<namespace>/<secret_name>` to `targets` (exactly ("*",) is a wildcard)."""

    namespace: str
    secret_name: str
    targets: tuple[str, ...]


def delegation_views(obj: object) -> tuple[DelegationView, ...]:
    namespace, _ = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    out = []
    for raw in as_list(spec.get("delegations")):
        d = as_dict(raw)
        targets = tuple(t for t in as_list(d.get("targetNamespaces")) if isinstance(t, str))
        out.append(DelegationView(namespace, as_str(d.get("secretName")), targets))
    return tuple(out)


# -- host names -------------------------------------------------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


def valid_hostname(host: str, *, allow_wildcard: bool = False) -> bool:
    """A lower-case DNS name Envoy accepts as a domain or SNI name and can match. With
    `allow_wildcard`, a leading `*.` label is allowed too (Ingress v1 wildcard hosts)."""
    if allow_wildcard and host.startswith("*."):
        host = host[2:]
    return _HOSTNAME.fullmatch(host) is not None
