"""Gateway API objects the CEL rules admit or refuse, each with the message the CRD gives:
the folder boundary (cel_gateway.py's twins) and the real API server (tests/cluster) must
agree on every one."""

from __future__ import annotations

from typing import Any

V1 = "gateway.networking.k8s.io/v1"


def route(*rules: dict[str, Any], kind: str = "HTTPRoute", name: str = "r",
          parents: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": kind, "metadata": {"name": name, "namespace": "gw-cel"},
            "spec": {"parentRefs": parents or [{"name": "gw"}], "rules": list(rules), **spec}}


def gateway(*listeners: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "Gateway", "metadata": {"name": "gw", "namespace": "gw-cel"},
            "spec": {"gatewayClassName": "c", "listeners": list(listeners), **spec}}


def _path(kind: str, value: str) -> dict[str, Any]:
    return {"matches": [{"path": {"type": kind, "value": value}}]}


def _rewrite(path: dict[str, Any], **rule: Any) -> dict[str, Any]:
    return {"filters": [{"type": "URLRewrite", "urlRewrite": {"path": path}}], **rule}


HTTP = {"name": "http", "protocol": "HTTP", "port": 80}
PREFIX = {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/y"}
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("route-ok", route({"backendRefs": [{"name": "s", "port": 80}]}), None),
    ("path-double-slash", route(_path("PathPrefix", "/a//b")), "must not contain '//'"),
    ("path-dot-end", route(_path("Exact", "/a/.")), "must not end with '/.'"),
    ("path-chars", route(_path("Exact", "/a b")), "must only contain valid characters"),
    ("path-regex-free", route(_path("RegularExpression", "/a//b")), None),
    ("backend-no-port", route({"backendRefs": [{"name": "s"}]}), "Must have port"),
    ("filter-without-field", route({"filters": [{"type": "RequestHeaderModifier"}]}),
     "filter.requestHeaderModifier must be specified"),
    ("filter-field-other-type", route({"filters": [{"type": "URLRewrite", "urlRewrite": {},
                                                    "requestMirror": {"backendRef": {
                                                        "name": "m", "port": 80}}}]}),
     "filter.requestMirror must be nil"),
    ("two-header-filters", route({"filters": [
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {}}] * 2}),
     "RequestHeaderModifier filter cannot be repeated"),
    ("redirect-and-rewrite", route({"filters": [
        {"type": "RequestRedirect", "requestRedirect": {}},
        {"type": "URLRewrite", "urlRewrite": {}}]}), "May specify either"),
    ("redirect-with-backends", route({"filters": [
        {"type": "RequestRedirect", "requestRedirect": {}}],
        "backendRefs": [{"name": "s", "port": 80}]}), "must not be used together"),
    ("prefix-rewrite-on-exact", route(_rewrite(PREFIX, **_path("Exact", "/x"))),
     "exactly one PathPrefix match"),
    ("prefix-rewrite-default-match", route(_rewrite(PREFIX)), None),
    ("prefix-rewrite-on-prefix", route(_rewrite(PREFIX, **_path("PathPrefix", "/x"))), None),
    ("full-path-without-value", route(_rewrite({"type": "ReplaceFullPath"})),
     "replaceFullPath must be specified"),
    ("timeouts", route({"timeouts": {"request": "1s", "backendRequest": "2s"}}),
     "backendRequest timeout cannot be longer"),
    ("timeouts-unlimited", route({"timeouts": {"request": "0s", "backendRequest": "2s"}}), None),
    ("same-parent-twice", route({}, parents=[{"name": "gw"}, {"name": "gw"}]),
     "sectionName must be unique"),
    ("same-parent-one-section", route({}, parents=[{"name": "gw"},
                                                   {"name": "gw", "sectionName": "a"}]),
     "sectionName must be specified"),
    ("same-parent-two-sections", route({}, parents=[{"name": "gw", "sectionName": "b"},
                                                    {"name": "gw", "sectionName": "a"}]), None),
    ("mirror-percent-and-fraction", route({"filters": [{"type": "RequestMirror", "requestMirror": {
        "backendRef": {"name": "m", "port": 80}, "percent": 5,
        "fraction": {"numerator": 1}}}]}), "Only one of percent or fraction"),
    ("grpc-method-empty", route({"matches": [{"method": {"type": "Exact"}}]}, kind="GRPCRoute"),
     "One or both of 'service' or 'method' must be specified"),
    ("grpc-method-name", route({"matches": [{"method": {"service": "a.B", "method": "x-y"}}]},
                               kind="GRPCRoute"), "method must only contain valid characters"),
    ("grpc-ok", route({"matches": [{"method": {"service": "a.B", "method": "Get"}}]},
                      kind="GRPCRoute"), None),
    ("tls-ip-hostname", route({"backendRefs": [{"name": "s", "port": 443}]}, kind="TLSRoute",
                              hostnames=["10.0.0.1"]), "Hostnames cannot contain an IP"),
    ("tls-wildcard", route({"backendRefs": [{"name": "s", "port": 443}]}, kind="TLSRoute",
                           hostnames=["*.example.com"]), None),
    ("gateway-ok", gateway(HTTP), None),
    ("listener-names", gateway(HTTP, {**HTTP, "port": 81}), "Listener name must be unique"),
    ("listener-port-protocol-hostname", gateway(HTTP, {**HTTP, "name": "b"}),
     "Combination of port, protocol and hostname must be unique"),
    ("http-with-tls", gateway({**HTTP, "tls": {"mode": "Terminate", "certificateRefs": [
        {"name": "c"}]}}), "tls must not be specified for protocols"),
    ("tls-without-mode", gateway({"name": "t", "protocol": "TLS", "port": 443}),
     "tls mode must be set for protocol TLS"),
    ("terminate-without-certs", gateway({"name": "s", "protocol": "HTTPS", "port": 443,
                                         "tls": {"mode": "Terminate"}}),
     "certificateRefs or options must be specified when mode is Terminate"),
    ("duplicate-addresses",
     gateway(HTTP, addresses=[{"type": "IPAddress", "value": "10.0.0.1"}] * 2),
     "IPAddress values must be unique"),
]
