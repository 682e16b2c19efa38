"""Core kinds through `admit`: the API server's rules for the fields the controller reads
(issue 7's Endpoints and Ingress examples among them); other fields are left alone."""

from __future__ import annotations

import pytest
from validationkit import (
    DELETE,
    endpoints,
    endpointslice,
    ingress,
    ingress_v1beta1,
    ingressclass,
    mutate,
    namespace,
    secret,
    service,
)

from controller.validation import Admitted, Rejected, admit

ADDRESS = ("subsets", 0, "addresses", 0)
EP_PORT = ("subsets", 0, "ports", 0)
SVC_PORT = ("spec", "ports", 0)
PATH = ("spec", "rules", 0, "http", "paths", 0)
ING_HOST = ("must be a lowercase DNS name (RFC 1123 labels separated by '.', at most 253 "
            "characters), optionally with a leading '*.' wildcard label, and not an IP address")
IP = "must be a valid IP address"

CASES = [
    # Service
    (service, (*SVC_PORT, "port"), 0, "spec.ports[0].port: must be at least 1"),
    (service, (*SVC_PORT, "port"), 65536, "spec.ports[0].port: must be at most 65535"),
    (service, (*SVC_PORT, "port"), "80", "spec.ports[0].port: must be an integer"),
    (service, (*SVC_PORT, "port"), 80.0, "spec.ports[0].port: must be an integer"),
    (service, (*SVC_PORT, "port"), DELETE, "spec.ports[0].port: is required"),
    (service, (*SVC_PORT, "protocol"), "HTTP",
     'spec.ports[0].protocol: must be one of ["SCTP", "TCP", "UDP"]'),
    (service, (*SVC_PORT, "name"), "HTTP", "spec.ports[0].name: must be a lowercase RFC 1123 "
     "label (a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 "
     "characters) or empty"),
    (service, (*SVC_PORT, "targetPort"), 0,
     "spec.ports[0].targetPort: must be a port number (1-65535) or an IANA service name"),
    (service, (*SVC_PORT, "targetPort"), "no--dash",
     "spec.ports[0].targetPort: must be a port number (1-65535) or an IANA service name"),
    (service, (*SVC_PORT, "targetPort"), "a-very-long-port-name",
     "spec.ports[0].targetPort: must be a port number (1-65535) or an IANA service name"),
    (service, (*SVC_PORT, "targetPort"), "8080",
     "spec.ports[0].targetPort: must be a port number (1-65535) or an IANA service name"),
    (service, ("spec", "type"), "Headless",
     'spec.type: must be one of ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]'),
    (service, ("spec", "externalName"), 5, "spec.externalName: must be a string"),
    (service, ("spec", "externalName"), "Bad Name", "spec.externalName: must be a lowercase "
     "RFC 1123 subdomain (dot-separated labels of a-z, 0-9 and '-', starting and ending with "
     "a letter or digit, at most 253 characters), one trailing '.' allowed"),
    (service, ("spec", "ports"), {"port": 80}, "spec.ports: must be an array"),
    # Endpoints (issue 7)
    (endpoints, (*ADDRESS, "ip"), "999.1.1.1", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), 12345, "subsets[0].addresses[0].ip: must be a string"),
    (endpoints, (*ADDRESS, "ip"), "::zz", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), "backend.example.com", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), "10.0.0.1 ", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), "010.0.0.1", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), "fe80::1%eth0", f"subsets[0].addresses[0].ip: {IP}"),
    (endpoints, (*ADDRESS, "ip"), DELETE, "subsets[0].addresses[0].ip: is required"),
    (endpoints, ("subsets", 0, "notReadyAddresses", 0, "ip"), "x",
     f"subsets[0].notReadyAddresses[0].ip: {IP}"),
    (endpoints, (*EP_PORT, "port"), -1, "subsets[0].ports[0].port: must be at least 1"),
    (endpoints, (*EP_PORT, "port"), 70000, "subsets[0].ports[0].port: must be at most 65535"),
    (endpoints, (*EP_PORT, "protocol"), "tcp",
     'subsets[0].ports[0].protocol: must be one of ["SCTP", "TCP", "UDP"]'),
    (endpoints, ("subsets", 0, "addresses"), "str", "subsets[0].addresses: must be an array"),
    (endpoints, ("subsets",), {"addresses": []}, "subsets: must be an array"),
    (endpoints, ("subsets", 0), [], "subsets[0]: must be an object"),
    # EndpointSlice
    (endpointslice, ("addressType",), "IPv5",
     'addressType: must be one of ["FQDN", "IPv4", "IPv6"]'),
    (endpointslice, ("addressType",), DELETE, "addressType: is required"),
    (endpointslice, ("endpoints", 0, "addresses", 0), "fd00::1",
     "endpoints[0].addresses[0]: must be a valid IPv4 address"),
    (endpointslice, ("endpoints", 0, "addresses"), [],
     "endpoints[0].addresses: must have at least 1 items"),
    (endpointslice, ("endpoints", 0, "conditions", "ready"), "true",
     "endpoints[0].conditions.ready: must be a boolean"),
    (endpointslice, ("ports", 0, "port"), 0, "ports[0].port: must be at least 1"),
    (endpointslice, ("ports", 0, "port"), True, "ports[0].port: must be an integer"),
    # Secret
    (secret, ("type",), 1, "type: must be a string"),
    (secret, ("data", "tls.crt"), "not base64!", "data[tls.crt]: must be base64-encoded"),
    (secret, ("data", "tls.crt"), "YQ", "data[tls.crt]: must be base64-encoded"),
    (secret, ("data", "tls.crt"), 5, "data[tls.crt]: must be a string"),
    (secret, ("data", "tls crt"), "YQ==", "data[tls crt]: keys must consist of alphanumeric "
     "characters, '-', '_' or '.'"),
    (secret, ("stringData", "ca.crt"), ["x"], "stringData[ca.crt]: must be a string"),
    (secret, ("data",), "x", "data: must be an object"),
    # Ingress (issue 7)
    (ingress, (*PATH, "pathType"), "Regex",
     'spec.rules[0].http.paths[0].pathType: must be one of ["Exact", "ImplementationSpecific", '
     '"Prefix"]'),
    (ingress, ("spec", "rules"), {"host": "a"}, "spec.rules: must be an array"),
    (ingress, ("spec", "ingressClassName"), 5, "spec.ingressClassName: must be a string"),
    (ingress, (*PATH, "path"), 1, "spec.rules[0].http.paths[0].path: must be a string"),
    (ingress, (*PATH, "backend"), DELETE, "spec.rules[0].http.paths[0].backend: is required"),
    (ingress, (*PATH, "backend", "service", "port", "number"), 0,
     "spec.rules[0].http.paths[0].backend.service.port.number: must be at least 1"),
    (ingress, (*PATH, "backend", "service", "name"), DELETE,
     "spec.rules[0].http.paths[0].backend.service.name: is required"),
    (ingress, ("spec", "rules", 0, "host"), ["a"], "spec.rules[0].host: must be a string"),
    (ingress, ("spec", "rules", 0, "host"), "*", f"spec.rules[0].host: {ING_HOST}"),
    (ingress, ("spec", "rules", 0, "host"), "10.0.0.1", f"spec.rules[0].host: {ING_HOST}"),
    (ingress, ("spec", "rules", 0, "host"), "a..b", f"spec.rules[0].host: {ING_HOST}"),
    (ingress, ("spec", "tls"), [{"hosts": ["A.com"]}], f"spec.tls[0].hosts[0]: {ING_HOST}"),
    (ingress, (*PATH, "backend", "service", "port"), DELETE,
     "spec.rules[0].http.paths[0].backend.service.port: is required"),
    (ingress, (*PATH, "backend", "service", "port"), {},
     "spec.rules[0].http.paths[0].backend.service.port: must have at least 1 fields"),
    (ingress, (*PATH, "backend", "service", "name"), "{{x}}",
     "spec.rules[0].http.paths[0].backend.service.name: must be a lowercase RFC 1035 label "
     "(a-z, 0-9 and '-', starting with a letter and ending with a letter or digit, at most "
     "63 characters)"),
    (endpointslice, ("ports",), [{"port": 80}] * 101, "ports: must have at most 100 items"),
    (ingress, ("spec", "rules", 0, "http"), "x", "spec.rules[0].http: must be an object"),
    (ingress, ("spec", "tls", 0, "hosts", 0), 1, "spec.tls[0].hosts[0]: must be a string"),
    (ingress, ("spec", "tls", 0, "secretName"), {}, "spec.tls[0].secretName: must be a string"),
    (ingress, ("spec", "defaultBackend"), "web", "spec.defaultBackend: must be an object"),
    (ingress_v1beta1, ("spec", "backend", "servicePort"), 0,
     "spec.backend.servicePort: must be at least 1"),
    (ingress_v1beta1, ("spec", "backend", "serviceName"), 1,
     "spec.backend.serviceName: must be a string"),
    (ingressclass, ("spec", "controller"), 1, "spec.controller: must be a string"),
]  # fmt: skip


PATH_RULE = ("spec.rules[0].http.paths[0]: an Exact or Prefix path must be absolute (start "
             "with '/'), hold no '//', '/./', '/../' or '%2f', and not end with '/..' or '/.'")
ABSOLUTE = "spec.rules[0].http.paths[0].path: must be an absolute path (start with '/')"


@pytest.mark.parametrize(("path", "path_type", "reasons"), [
    ("/a", "Prefix", ()), ("/[a", "Exact", ()), ("/a/b/", "Prefix", ()),
    ("/.well-known", "Exact", ()), ("", "ImplementationSpecific", ()),
    ("/a//b", "ImplementationSpecific", ()), ("", None, ()),
    ("", "Prefix", (PATH_RULE,)), (DELETE, "Exact", (PATH_RULE,)),
    ("/a//b", "Prefix", (PATH_RULE,)),
    ("/a/./b", "Exact", (PATH_RULE,)), ("/a/../b", "Prefix", (PATH_RULE,)),
    ("/a%2fb", "Exact", (PATH_RULE,)), ("/a%2Fb", "Prefix", (PATH_RULE,)),
    ("/a/..", "Exact", (PATH_RULE,)), ("/a/.", "Prefix", (PATH_RULE,)),
    ("a", "Prefix", (ABSOLUTE, PATH_RULE)), ("a", "ImplementationSpecific", (ABSOLUTE,)),
])  # fmt: skip
def test_ingress_path_by_path_type(path: object, path_type: str | None,
                                   reasons: tuple[str, ...]) -> None:
    """The API server's path rules depend on the pathType: Exact and Prefix need an
    absolute path without sequences that normalize away; ImplementationSpecific does not."""
    obj = mutate(mutate(ingress(), (*PATH, "path"), path), (*PATH, "pathType"),
                 DELETE if path_type is None else path_type)
    verdict = admit(obj)
    if not reasons:
        assert verdict == Admitted(obj, ())
    else:
        meta = obj["metadata"]
        assert verdict == Rejected("Ingress", meta["namespace"], meta["name"], reasons)


@pytest.mark.parametrize(("make", "path", "value", "reason"), CASES,
                         ids=lambda v: getattr(v, "__name__", None))  # fmt: skip
def test_core_rejections(make, path, value, reason) -> None:  # type: ignore[no-untyped-def]
    obj = mutate(make(), path, value)
    meta = obj["metadata"]
    namespace = meta.get("namespace", "") if obj["kind"] != "IngressClass" else ""
    assert admit(obj) == Rejected(obj["kind"], namespace, meta["name"], (reason,))


VALID = [
    (service, ("spec", "type"), "ExternalName"),
    (service, ("spec", "externalName"), "db.example.com."),
    (service, (*SVC_PORT, "name"), ""),
    (service, (*SVC_PORT, "targetPort"), "http"),
    (service, ("spec", "clusterIP"), "None"),  # not read: not checked
    (endpoints, (*ADDRESS, "ip"), "::ffff:10.0.0.1"),
    (endpoints, ("subsets", 0, "ports", 0, "name"), ""),
    (endpoints, ("subsets", 0, "addresses", 0, "targetRef"), {"kind": "Pod"}),
    (endpointslice, ("endpoints", 0, "conditions", "serving"), False),
    (secret, ("type",), "Opaque"),
    (secret, ("data", "empty"), ""),
    (ingress, (*PATH, "pathType"), "ImplementationSpecific"),
    (ingress, (*PATH, "backend"), {"resource": {"kind": "Bucket", "name": "b"}}),
    (ingress, ("status",), {"loadBalancer": {}}),
    (namespace, ("metadata", "namespace"), "Any String"),  # cluster-scoped: ignored
    (ingress, ("spec", "rules", 0, "host"), "0"),  # a DNS label, not an IP address
    (ingress, ("spec", "rules", 0, "host"), "*.a.example.com"),
    (ingress, ("spec", "rules", 0, "host"), ""),
]  # fmt: skip


@pytest.mark.parametrize(("make", "path", "value"), VALID,
                         ids=lambda v: getattr(v, "__name__", None))  # fmt: skip
def test_core_accepted(make, path, value) -> None:  # type: ignore[no-untyped-def]
    obj = mutate(make(), path, value)
    verdict = admit(obj)
    assert verdict == Admitted(obj, ()) and verdict.obj is obj


@pytest.mark.parametrize(("address_type", "address"), [
    ("IPv4", "10.1.2.3"), ("IPv6", "fd00::2"), ("FQDN", "backend.example.com"),
])  # fmt: skip
def test_endpointslice_addresses_follow_address_type(address_type: str, address: str) -> None:
    obj = endpointslice(address_type, address)
    assert admit(obj) == Admitted(obj, ())
    wrong = endpointslice("IPv6" if address_type == "IPv4" else "IPv4", address)
    assert isinstance(admit(wrong), Rejected)


def test_unknown_fields_of_core_kinds_are_kept() -> None:
    obj = mutate(service(), ("spec", "sessionAffinity"), "ClientIP")
    obj["spec"]["colour"] = {"any": ["thing"]}
    assert admit(obj) == Admitted(obj, ())


NULLS = [
    (service, ("spec", "ports")),
    (service, ("spec", "type")),
    (service, ("metadata", "annotations")),
    (endpoints, ("subsets",)),
    (endpoints, ("subsets", 0, "ports", 0, "name")),
    (endpointslice, ("ports", 0, "port")),  # null: every port (a Go pointer)
    (endpointslice, ("endpoints", 0, "conditions", "ready")),
    (secret, ("data",)),
    (ingress, ("spec", "tls")),
]  # fmt: skip


@pytest.mark.parametrize(("make", "path"), NULLS, ids=lambda v: getattr(v, "__name__", None))
def test_null_is_the_zero_value_and_is_dropped(make, path) -> None:  # type: ignore[no-untyped-def]
    from controller.validation.engine import format_path

    verdict = admit(mutate(make(), path, None))
    warning = f"{format_path(path)}: null, pruned"
    assert verdict == Admitted(mutate(make(), path, DELETE), (warning,))


def test_null_inside_a_list_is_a_type_error() -> None:
    verdict = admit(mutate(endpoints(), ("subsets", 0, "addresses", 0), None))
    assert isinstance(verdict, Rejected)
    assert verdict.reasons == ("subsets[0].addresses[0]: must be an object",)


def test_a_required_null_is_missing() -> None:
    verdict = admit(mutate(endpoints(), (*ADDRESS, "ip"), None))
    assert isinstance(verdict, Rejected)
    assert verdict.reasons == ("subsets[0].addresses[0].ip: is required",)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_not_read_as_null(bad: float) -> None:
    for path, reason in [
        ((*EP_PORT, "port"), "subsets[0].ports[0].port: must be a finite number"),
        ((*EP_PORT, "name"), "subsets[0].ports[0].name: must be a string"),
        (("metadata", "labels"), "metadata.labels: must be an object"),
    ]:
        verdict = admit(mutate(endpoints(), path, bad))
        assert isinstance(verdict, Rejected) and verdict.reasons == (reason,), verdict
