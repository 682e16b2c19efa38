"""IngressRoute and TLSCertificateDelegation through `admit`: the rules of manifests/'s
structural schemas (issue 7's examples among them), pruning with warnings, null pruning."""

from __future__ import annotations

import copy

import pytest
from validationkit import DELETE, IR_API, delegation, ingressroute, mutate

from controller.validation import Admitted, Rejected, admit

ROUTE = ("spec", "routes", 0)
SERVICE = (*ROUTE, "services", 0)
TLS = ("spec", "virtualhost", "tls")

REJECTED_IR = [
    # issue 7's wrong types
    ((*SERVICE, "weight"), "abc", "spec.routes[0].services[0].weight: must be an integer"),
    ((*SERVICE, "weight"), True, "spec.routes[0].services[0].weight: must be an integer"),
    (("spec", "routes"), 3, "spec.routes: must be an array"),
    ((*ROUTE, "enableWebsockets"), "yes", "spec.routes[0].enableWebsockets: must be a boolean"),
    (TLS, "x", "spec.virtualhost.tls: must be an object"),
    ((*ROUTE, "prefixRewrite"), ["/a"], "spec.routes[0].prefixRewrite: must be a string"),
    ((*ROUTE, "retryPolicy", "count"), "3", "spec.routes[0].retryPolicy.count: must be an integer"),
    ((*SERVICE, "healthCheck"), "x", "spec.routes[0].services[0].healthCheck: must be an object"),
    # enums, patterns, required fields, int64
    ((*TLS, "minimumProtocolVersion"), "1.0",
     'spec.virtualhost.tls.minimumProtocolVersion: must be one of ["1.1", "1.2", "1.3"]'),
    ((*SERVICE, "strategy"), "Fastest", "spec.routes[0].services[0].strategy: must be one of "
     '["Cookie", "Random", "RoundRobin", "WeightedLeastRequest"]'),
    ((*ROUTE, "match"), "api", r"spec.routes[0].match: must match pattern ^\/.*$"),
    ((*SERVICE, "name"), "Web", "spec.routes[0].services[0].name: must match pattern "
     "^[a-z]([-a-z0-9]*[a-z0-9])?$"),
    ((*TLS, "secretName"), "a b", "spec.virtualhost.tls.secretName: must match pattern "
     r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([\.\/][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
    (("spec", "virtualhost", "fqdn"), "_x_", "spec.virtualhost.fqdn: must match pattern "
     r"^([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*\.)+[\-a-z0-9]{2,}|[\-a-z0-9]+$"),
    ((*ROUTE, "match"), DELETE, "spec.routes[0].match: is required"),
    ((*SERVICE, "port"), DELETE, "spec.routes[0].services[0].port: is required"),
    ((*SERVICE, "healthCheck", "path"), DELETE,
     "spec.routes[0].services[0].healthCheck.path: is required"),
    (("spec", "routes", 1, "delegate", "name"), DELETE,
     "spec.routes[1].delegate.name: is required"),
    ((*SERVICE, "port"), 2**63,
     "spec.routes[0].services[0].port: must be at most 9223372036854775807"),
    ((*SERVICE, "port"), 80.5, "spec.routes[0].services[0].port: must be an integer"),
    ((*ROUTE, "match"), None, "spec.routes[0].match: is required"),  # null pruned, then missing
    (("spec",), "x", "spec: must be an object"),
    (("spec", "routes", 0), "/", "spec.routes[0]: must be an object"),
    (("apiVersion",), "contour.heptio.com/v1",
     'apiVersion: must be one of ["contour.heptio.com/v1beta1"]'),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "reason"), REJECTED_IR)
def test_ingressroute_rejections(path: tuple[str | int, ...], value: object, reason: str) -> None:
    assert admit(mutate(ingressroute(), path, value)) == Rejected(
        "IngressRoute", "team", "root", (reason,)
    )


REJECTED_DELEGATION = [
    (("spec", "delegations"), "x", "spec.delegations: must be an array"),
    (("spec", "delegations", 0, "secretName"), DELETE,
     "spec.delegations[0].secretName: is required"),
    (("spec", "delegations", 0, "targetNamespaces"), [1],
     "spec.delegations[0].targetNamespaces[0]: must be a string"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "reason"), REJECTED_DELEGATION)
def test_delegation_rejections(path: tuple[str | int, ...], value: object, reason: str) -> None:
    assert admit(mutate(delegation(), path, value)) == Rejected(
        "TLSCertificateDelegation", "certs", "grant", (reason,)
    )


def test_valid_objects_are_admitted_as_they_are() -> None:
    for obj in (ingressroute(), delegation()):
        verdict = admit(obj)
        assert verdict == Admitted(obj, ()) and verdict.obj is obj


def test_every_reason_is_reported_sorted() -> None:
    obj = mutate(mutate(ingressroute(), (*SERVICE, "weight"), "abc"), ("spec", "routes", 1), 3)
    verdict = admit(obj)
    assert isinstance(verdict, Rejected)
    assert verdict.reasons == (
        "spec.routes[0].services[0].weight: must be an integer",
        "spec.routes[1]: must be an object",
    )


PRUNED = [
    ((*ROUTE, "colour"), "blue", "spec.routes[0].colour: unknown field, pruned"),
    (("spec", "virtualhost", "cors"), {"allow": "*"},
     "spec.virtualhost.cors: unknown field, pruned"),
    (("spec", "extra"), [1, 2], "spec.extra: unknown field, pruned"),
    (("top",), 1, "top: unknown field, pruned"),
    ((*TLS, "ciphers"), ["x"], "spec.virtualhost.tls.ciphers: unknown field, pruned"),
    ((*ROUTE, "prefixRewrite"), None, "spec.routes[0].prefixRewrite: null, pruned"),
    (("spec", "tcpproxy"), None, "spec.tcpproxy: null, pruned"),
    ((*SERVICE, "weight"), None, "spec.routes[0].services[0].weight: null, pruned"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "warning"), PRUNED)
def test_unknown_fields_and_nulls_are_pruned(
    path: tuple[str | int, ...], value: object, warning: str
) -> None:
    obj = mutate(ingressroute(), path, value)
    before = copy.deepcopy(obj)
    verdict = admit(obj)
    assert verdict == Admitted(mutate(obj, path, DELETE), (warning,))
    assert obj == before  # the input is never changed; the admitted object is a copy
    assert admit(verdict.obj) == Admitted(verdict.obj, ())


def test_metadata_and_preserved_fields_are_not_pruned() -> None:
    obj = mutate(ingressroute(), ("metadata", "uid"), "1234")
    obj["metadata"]["resourceVersion"] = "7"
    assert admit(obj) == Admitted(obj, ())


def test_integral_float_is_stored_as_integer_like_the_api_server_reads_it_back() -> None:
    verdict = admit(mutate(ingressroute(), (*SERVICE, "port"), 80.0))
    warning = "spec.routes[0].services[0].port: 80.0 stored as 80"
    assert verdict == Admitted(ingressroute(), (warning,))
    assert type(verdict.obj["spec"]["routes"][0]["services"][0]["port"]) is int


def test_pruned_and_wrong_is_rejected_with_the_wrong_only() -> None:
    obj = mutate(mutate(ingressroute(), (*ROUTE, "colour"), 1), (*SERVICE, "weight"), "x")
    assert admit(obj) == Rejected(
        "IngressRoute", "team", "root", ("spec.routes[0].services[0].weight: must be an integer",)
    )


def test_non_string_keys_are_unknown_fields() -> None:
    obj = mutate(ingressroute(), (*ROUTE, 1), "one")  # YAML `1: one`
    assert admit(obj) == Admitted(ingressroute(), ("spec.routes[0][1]: unknown field, pruned",))


def test_a_cluster_of_bad_input_is_reported_not_raised() -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    deep: dict[str, object] = {}
    for _ in range(100_000):
        deep = {"x": deep}
    for bad in (cyclic, deep, float("nan"), float("inf")):
        verdict = admit(mutate(ingressroute(), (*SERVICE, "weight"), bad))
        assert isinstance(verdict, Rejected), bad
        assert verdict.reasons[0].startswith("spec.routes[0].services[0].weight"), verdict
        pruned = admit(mutate(ingressroute(), (*ROUTE, "unknown"), bad))
        warning = "spec.routes[0].unknown: unknown field, pruned"
        assert pruned == Admitted(ingressroute(), (warning,))


def test_api_version_decides_the_schema() -> None:
    other = mutate(ingressroute(), ("apiVersion",), "traefik.containo.us/v1alpha1")
    verdict = admit(other)
    assert isinstance(verdict, Rejected)
    assert verdict.reasons == (f'apiVersion: must be one of ["{IR_API}"]',)
