"""Typed views of Kubernetes objects: what the store keeps after a tolerant parse.

Each `*_view` function takes a raw object (see objects.py) and never raises: a field of the
wrong type, or missing, is treated as absent. The views hold only the fields the builder
reads, already defaulted (a delegate's namespace, a port that is not an integer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.k8s.objects import (
    Key,
    annotations_of,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    key_of,
)
from controller.records import record

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

    key: Key = field(init=False, repr=False, compare=False)
    """(namespace, name), made once: the builders key their indexes and statuses by it
    (memory: as a property it made a tuple per use, each kept by the index it keyed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.namespace, self.name))


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

    key: Key = field(init=False, repr=False, compare=False)
    """(namespace, name), made once: the builders key their indexes and statuses by it
    (memory: as a property it made a tuple per use, each kept by the index it keyed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.namespace, self.name))


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


@record
class ServicePortView:
    name: str
    port: int


@record
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
