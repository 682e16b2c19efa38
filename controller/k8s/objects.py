"""Kubernetes objects as the controller reads them: raw dicts, kinds, keys, and the
tolerant accessors the typed views (views.py) are parsed with.

Objects arrive as parsed JSON/YAML and may be malformed in any way (the folder source does
no schema validation, and even the API server lets some shapes through). The `TypedDict`s
below document the fields that are read; the `*View` dataclasses of views.py are what the
store keeps after a tolerant parse: a field of the wrong type, or missing, is treated as
absent. The parse never raises.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TypedDict

INGRESSROUTE = "IngressRoute"
HTTPPROXY = "HTTPProxy"
EXTENSION_SERVICE = "ExtensionService"
TLS_CERTIFICATE_DELEGATION = "TLSCertificateDelegation"
"""contour.heptio.com/v1beta1's kind."""
TLS_CERTIFICATE_DELEGATION_V1 = "TLSCertificateDelegation.projectcontour.io"
"""projectcontour.io/v1's TLSCertificateDelegation as the controller names it in events,
the store and its reports: the two API groups share the kind name, and a v1beta1 and a v1
delegation of one namespace and name are two objects (deleting one keeps the other)."""
DELEGATION_KINDS = frozenset({TLS_CERTIFICATE_DELEGATION, TLS_CERTIFICATE_DELEGATION_V1})
INGRESS = "Ingress"
SERVICE = "Service"
SECRET = "Secret"
ENDPOINTS = "Endpoints"
ENDPOINT_SLICE = "EndpointSlice"
NAMESPACE = "Namespace"
INGRESS_CLASS = "IngressClass"
GATEWAY_CLASS = "GatewayClass"
GATEWAY = "Gateway"
HTTPROUTE = "HTTPRoute"
TLSROUTE = "TLSRoute"
GRPCROUTE = "GRPCRoute"
REFERENCE_GRANT = "ReferenceGrant"
GATEWAY_GROUP = "gateway.networking.k8s.io"

CLUSTER_SCOPED = frozenset({NAMESPACE, INGRESS_CLASS, GATEWAY_CLASS})

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


def event_kind(kind: str, api_version: object) -> str:
    """The kind as events and the store key it: `kind`, except a projectcontour.io
    TLSCertificateDelegation (TLS_CERTIFICATE_DELEGATION_V1)."""
    if kind == TLS_CERTIFICATE_DELEGATION and isinstance(api_version, str) and \
            api_version.startswith("projectcontour.io/"):
        return TLS_CERTIFICATE_DELEGATION_V1
    return kind


def kind_of(obj: object) -> str:
    """The object's kind as events and the store key it (`event_kind`)."""
    raw = as_dict(obj)
    return event_kind(as_str(raw.get("kind")), raw.get("apiVersion"))


def key_of(obj: object) -> Key:
    """(namespace, name); a namespaced object without a namespace lives in `default`,
    as `kubectl apply` would put it."""
    raw = as_dict(obj)
    meta = as_dict(raw.get("metadata"))
    name = as_str(meta.get("name"))
    if as_str(raw.get("kind")) in CLUSTER_SCOPED:
        return ("", name)
    # memory: one string per namespace, however many objects are parsed (50k JSON objects
    # of one namespace held 50k copies of its name)
    return (sys.intern(as_str(meta.get("namespace")) or "default"), name)


def annotations_of(obj: object) -> dict[str, str]:
    return str_map(as_dict(as_dict(obj).get("metadata")).get("annotations"))


# -- host names -------------------------------------------------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


def valid_hostname(host: str, *, allow_wildcard: bool = False) -> bool:
    """A lower-case DNS name Envoy accepts as a domain or SNI name and can match. With
    `allow_wildcard`, a leading `*.` label is allowed too (Ingress v1 wildcard hosts)."""
    if allow_wildcard and host.startswith("*."):
        host = host[2:]
    return _HOSTNAME.fullmatch(host) is not None
