"""ObjectStore: what is stored and which changes matter for routing (spec §2.3, §2.5, §2.6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dagkit import (
    backend,
    delegation,
    ingress,
    ir,
    path,
    route,
    rule,
    secret,
    service,
    store_of,
    svc,
    tls_pair,
)

from controller.config import BuilderSettings

Obj = dict[str, Any]


def with_meta(obj: Obj, **fields: Any) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"].update(fields)
    return out


ROOT = ir(
    "root",
    fqdn="example.com",
    tls={"secretName": "tls"},
    routes=[route("/", svc("kuard", 80, validation={"caSecret": "ca", "subjectName": "x"}))],
)
ING = ingress(
    "ing",
    rules=[rule("a.com", path("/", backend("web", 80)))],
    tls=[{"hosts": ["a.com"], "secretName": "certs/shared"}],
)


@pytest.mark.parametrize(
    ("existing", "obj", "changed"),
    [
        pytest.param([], ROOT, True, id="new-ingressroute"),
        pytest.param(
            [ROOT],
            with_meta(ROOT, resourceVersion="9", generation=3),
            False,
            id="ingressroute-resourceVersion-only",
        ),
        pytest.param(
            [ROOT],
            ROOT | {"status": {"currentStatus": "valid"}},
            False,
            id="ingressroute-status-only",
        ),
        pytest.param(
            [ROOT],
            with_meta(ROOT, managedFields=[{"manager": "kubectl"}]),
            False,
            id="ingressroute-managedFields-only",
        ),
        # the store compares views: what the builder does not read is no change
        pytest.param([ROOT], with_meta(ROOT, labels={"a": "b"}), False, id="ingressroute-label"),
        pytest.param([ROOT], with_meta(ROOT, annotations={"a": "b"}), False,
                     id="ingressroute-unread-annotation"),
        pytest.param([ROOT], ROOT | {"spec": ROOT["spec"] | {"routes": []}}, True,
                     id="ingressroute-routes-changed"),
        pytest.param(
            [],
            ir("x", fqdn="x.com", annotations={"contour.heptio.com/ingress.class": "nginx"}),
            False,
            id="ingressroute-other-class",
        ),
        pytest.param(
            [ir("x", fqdn="x.com")],
            ir("x", fqdn="x.com", annotations={"kubernetes.io/ingress.class": "nginx"}),
            True,
            id="ingressroute-moves-away-class",
        ),
        pytest.param([], ingress("i", class_name="nginx"), False, id="ingress-other-classname"),
        pytest.param(
            [],
            ingress(
                "i", annotations={"kubernetes.io/ingress.class": "contour"}, class_name="nginx"
            ),
            True,
            id="ingress-annotation-wins",
        ),
        pytest.param([], service("unused"), False, id="unreferenced-service"),
        pytest.param([ROOT], service("kuard"), True, id="service-referenced-by-ingressroute"),
        pytest.param([ROOT], service("kuard", "other"), False, id="service-other-namespace"),
        pytest.param([ING], service("web"), True, id="service-referenced-by-ingress"),
        pytest.param([ROOT, service("kuard")], service("kuard"), False, id="service-unchanged"),
        pytest.param([ROOT], secret("tls"), True, id="secret-referenced-by-root"),
        pytest.param(
            [ROOT],
            secret("ca", type="Opaque", ca=tls_pair()[0]),
            True,
            id="ca-secret-referenced-by-validation",
        ),
        pytest.param([], secret("tls"), False, id="secret-unreferenced"),
        pytest.param([ING], secret("shared", "certs"), True, id="secret-referenced-cross-ns"),
        pytest.param(
            [ROOT], secret("tls", cert=b"junk", key=b"junk"), False, id="invalid-secret-not-stored"
        ),
        pytest.param(
            [ROOT, secret("tls")],
            secret("tls", cert=b"junk", key=b"junk"),
            True,
            id="secret-becomes-invalid",
        ),
        pytest.param([], delegation("d", "certs", ("shared", ["*"])), True, id="delegation"),
        pytest.param(
            [], {"kind": "Endpoints", "metadata": {"name": "kuard"}}, False, id="endpoints-ignored"
        ),
        pytest.param(
            [],
            {"kind": "EndpointSlice", "metadata": {"name": "k-1"}},
            False,
            id="endpointslice-ignored",
        ),
        pytest.param(
            [], {"kind": "Namespace", "metadata": {"name": "ns"}}, False, id="namespace-ignored"
        ),
        pytest.param([], {"kind": "IngressRoute", "metadata": {}}, False, id="no-name"),
    ],
)
def test_upsert_reports_routing_changes(existing: list[Obj], obj: Obj, changed: bool) -> None:
    store = store_of(*existing)
    assert store.upsert(obj) is changed


@pytest.mark.parametrize(
    ("existing", "kind", "name", "changed"),
    [
        pytest.param([ROOT], "IngressRoute", "root", True, id="stored-ingressroute"),
        pytest.param([], "IngressRoute", "root", False, id="unknown-ingressroute"),
        pytest.param(
            [ingress("i", class_name="nginx")],
            "Ingress",
            "i",
            False,
            id="filtered-ingress-was-never-stored",
        ),
        pytest.param([ROOT, service("kuard")], "Service", "kuard", True, id="referenced-service"),
        pytest.param([service("kuard")], "Service", "kuard", False, id="unreferenced-service"),
        pytest.param([ROOT, secret("tls")], "Secret", "tls", True, id="referenced-secret"),
        pytest.param(
            [ROOT, secret("tls", cert=b"x", key=b"y")], "Secret", "tls", False, id="rejected-secret"
        ),
        pytest.param(
            [delegation("d", "default", ("s", ["*"]))],
            "TLSCertificateDelegation",
            "d",
            True,
            id="delegation",
        ),
        pytest.param([], "Endpoints", "kuard", False, id="endpoints"),
    ],
)
def test_remove_reports_routing_changes(
    existing: list[Obj], kind: str, name: str, changed: bool
) -> None:
    store = store_of(*existing)
    assert store.remove(kind, "default", name) is changed


def test_references_follow_updates_and_removals() -> None:
    store = store_of(ROOT)
    assert store.upsert(service("kuard"))
    store.upsert(ir("root", fqdn="example.com", routes=[route("/", svc("other", 80))]))
    assert not store.upsert(service("kuard", ports=[(None, 81)]))
    assert store.upsert(service("other"))
    store.remove("IngressRoute", "default", "root")
    assert not store.upsert(service("other", ports=[(None, 81)]))


def test_rejected_secret_reason_is_kept_and_cleared() -> None:
    store = store_of(ROOT, secret("tls", cert=tls_pair()[0], key=tls_pair(1)[1]))
    assert "does not match" in store.rejected_secrets[("default", "tls")]
    assert ("default", "tls") not in store.secrets
    assert store.upsert(secret("tls"))
    assert store.rejected_secrets == {}
    store.upsert(secret("tls", cert=b"x", key=b"y"))
    assert ("default", "tls") not in store.secrets
    store.remove("Secret", "default", "tls")
    assert store.rejected_secrets == {}


def test_namespace_defaults_and_counts() -> None:
    obj = ir("a", fqdn="a.com")
    del obj["metadata"]["namespace"]
    store = store_of(obj, service("kuard"), ingress("i", class_name="nginx"))
    assert ("default", "a") in store.ingressroutes
    assert store.counts() == {
        "ExtensionService": 0,
        "HTTPProxy": 0,
        "Ingress": 0,
        "IngressRoute": 1,
        "Service": 1,
        "Secret": 0,
        "TLSCertificateDelegation": 0,
        "TLSCertificateDelegation.projectcontour.io": 0,
    }


def test_delegation_index_is_rebuilt_on_change() -> None:
    store = store_of(secret("shared", "certs"), delegation("d", "certs", ("shared", ["app"])))
    key = ("certs", "shared")
    assert store.tls_secret(key, "app")[1]
    store.upsert(delegation("d", "certs", ("shared", ["other"])))
    assert not store.tls_secret(key, "app")[1]
    store.upsert(delegation("d2", "certs", ("shared", ["*"])))
    assert store.tls_secret(key, "app")[1]
    store.remove("TLSCertificateDelegation", "certs", "d2")
    assert not store.tls_secret(key, "app")[1]


def test_ingress_class_setting() -> None:
    store = store_of(settings=BuilderSettings(ingress_class="linkerd"))
    assert not store.upsert(
        ir("a", fqdn="a.com", annotations={"kubernetes.io/ingress.class": "contour"})
    )
    assert store.upsert(
        ir("b", fqdn="b.com", annotations={"kubernetes.io/ingress.class": "linkerd"})
    )
    assert store.upsert(ir("c", fqdn="c.com"))


def v1(obj: Obj) -> Obj:
    return {**obj, "apiVersion": "projectcontour.io/v1"}


@pytest.mark.parametrize("removed_kind", [
    "TLSCertificateDelegation", "TLSCertificateDelegation.projectcontour.io"])
def test_a_v1beta1_and_a_v1_delegation_of_one_name_are_two_objects(removed_kind: str) -> None:
    """Both API groups share the kind name; a migration keeps both for a while, and deleting
    the old one must not take the new one's grants with it."""
    old = delegation("d", "certs", ("shared", ["app"]))
    new = v1(delegation("d", "certs", ("shared", ["other"])))
    store = store_of(secret("shared", "certs"), old, new)
    key = ("certs", "shared")
    assert store.tls_secret(key, "app")[1] and store.tls_secret(key, "other")[1]
    assert store.remove(removed_kind, "certs", "d")
    kept = "other" if removed_kind == "TLSCertificateDelegation" else "app"
    gone = "app" if kept == "other" else "other"
    assert store.tls_secret(key, kept)[1] and not store.tls_secret(key, gone)[1]


def test_event_kinds_of_the_two_delegation_groups() -> None:
    from controller.events import ObjectEvent
    from controller.k8s.objects import kind_of

    old = delegation("d", "certs", ("shared", ["app"]))
    assert (kind_of(old), kind_of(v1(old))) == (
        "TLSCertificateDelegation", "TLSCertificateDelegation.projectcontour.io")
    assert ObjectEvent.upsert(v1(old)).key == (
        "TLSCertificateDelegation.projectcontour.io", "certs", "d")
    # a v1 object of another kind is not renamed
    assert kind_of({"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy"}) == "HTTPProxy"


def test_service_ports_first_of_a_number_or_name_wins() -> None:
    raw = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "multi", "namespace": "default", "annotations": {
               "contour.heptio.com/upstream-protocol.h2c": "b"}},
           "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80},
                              {"port": 81}]}}
    store = store_of(raw)
    key = ("default", "multi")
    first = store.service_port(key, 80)
    assert first is not None and first.port_name == "a"
    named = store.service_port_named(key, "b")
    assert named is not None and named.port == 80 and named.protocol.value == "h2c"
    assert store.service_port_named(key, "") is None
    assert store.service_port(key, 82) is None
    tcp = store.tcp_service_port(key, 80)
    assert tcp is not None and tcp.port_name == "a" and tcp.protocol.value != "h2c"
    unnamed = store.tcp_service_port(key, 81)
    assert unnamed is not None and unnamed is store.service_port(key, 81)
