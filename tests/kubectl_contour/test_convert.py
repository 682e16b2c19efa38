"""IngressRoute → HTTPProxy conversion (kubectl_contour/queries/convert.py): table-driven.

Each case is one IngressRoute field the converter must carry over (the ones upstream's
ir2proxy dropped among them), or one that has no equivalent and must warn."""

from __future__ import annotations

from typing import Any

import pytest

from controller.config import BuilderSettings
from kubectl_contour.objects import Snapshot
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.convert import Conversion, Served, child_condition, convert, served_by

IR = "contour.heptio.com/v1beta1"


def ir(name: str, spec: dict[str, Any], ns: str = "default", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": IR, "kind": "IngressRoute",
            "metadata": {"name": name, "namespace": ns, **meta}, "spec": spec}


def root(routes: list[dict[str, Any]], **vhost: Any) -> dict[str, Any]:
    return ir("root", {"virtualhost": {"fqdn": "a.example.com", **vhost}, "routes": routes})


def svc(name: str = "s1", port: int = 80, **more: Any) -> dict[str, Any]:
    return {"name": name, "port": port, **more}


def all_served(objects: list[dict[str, Any]]) -> Served:
    """Everything declared counts as served: the field-mapping cases need no DAG."""
    routes, edges, hosts = set(), set(), set()
    for o in objects:
        key = (o["metadata"].get("namespace", "default"), o["metadata"]["name"])
        spec = o.get("spec") or {}
        hosts.add(str((spec.get("virtualhost") or {}).get("fqdn", "")).lower())
        for r in [*spec.get("routes", []), spec.get("tcpproxy") or {}]:
            routes.add((key, r.get("match", "/")))
            if r.get("delegate"):
                edges.add((key, (r["delegate"].get("namespace", key[0]), r["delegate"]["name"])))
    return Served(frozenset(routes), frozenset(edges), frozenset(hosts))


def converted(objects: list[dict[str, Any]]) -> Conversion:
    return convert(objects, all_served(objects))


def proxy(objects: list[dict[str, Any]], name: str = "root") -> tuple[dict[str, Any], list[str]]:
    result = converted(objects)
    found = [o for o in result.objects
             if o["kind"] == "HTTPProxy" and o["metadata"]["name"] == name]
    assert len(found) == 1
    return found[0]["spec"], result.warnings


ROUTE_CASES = [
    ("websockets", {"enableWebsockets": True}, {"enableWebsockets": True}),
    ("permit insecure", {"permitInsecure": True}, {"permitInsecure": True}),
    ("prefix rewrite", {"prefixRewrite": "/new"},
     {"pathRewritePolicy": {"replacePrefix": [{"prefix": "/app", "replacement": "/new"}]}}),
    ("timeout", {"timeoutPolicy": {"request": "3s"}}, {"timeoutPolicy": {"response": "3s"}}),
    ("retry", {"retryPolicy": {"count": 3, "perTryTimeout": "150ms"}},
     {"retryPolicy": {"count": 3, "retryOn": ["5xx"], "perTryTimeout": "150ms"}}),
    ("retry count 0 is one retry", {"retryPolicy": {}},
     {"retryPolicy": {"count": 1, "retryOn": ["5xx"]}}),
]


@pytest.mark.parametrize(("given", "expected"), [c[1:] for c in ROUTE_CASES],
                         ids=[c[0] for c in ROUTE_CASES])
def test_route_fields_carry_over(given: dict[str, Any], expected: dict[str, Any]) -> None:
    spec, warnings = proxy([root([{"match": "/app", "services": [svc()], **given}])])
    route = spec["routes"][0]
    assert route["conditions"] == [{"prefix": "/app"}]
    for key, value in expected.items():
        assert route[key] == value
    assert warnings == []


SERVICE_CASES = [
    ("weight", svc(weight=30), {"weight": 30}, {}),
    ("validation", svc(validation={"caSecret": "ca", "subjectName": "b.example.com"}),
     {"validation": {"caSecret": "ca", "subjectName": "b.example.com"}}, {}),
    ("strategy", svc(strategy="Cookie"), {}, {"loadBalancerPolicy": {"strategy": "Cookie"}}),
    ("health check interval kept, defaults explicit",
     svc(healthCheck={"path": "/hc", "intervalSeconds": 7}), {},
     {"healthCheckPolicy": {"path": "/hc", "intervalSeconds": 7, "timeoutSeconds": 2,
                            "unhealthyThresholdCount": 3, "healthyThresholdCount": 2}}),
]


@pytest.mark.parametrize(("service", "on_service", "on_route"), [c[1:] for c in SERVICE_CASES],
                         ids=[c[0] for c in SERVICE_CASES])
def test_service_fields_carry_over(service: dict[str, Any], on_service: dict[str, Any],
                                   on_route: dict[str, Any]) -> None:
    spec, warnings = proxy([root([{"match": "/", "services": [service]}])])
    route = spec["routes"][0]
    assert route["services"][0] == {"name": "s1", "port": 80, **on_service}
    for key, value in on_route.items():
        assert route[key] == value
    assert warnings == []


def test_upstream_protocol_annotation_becomes_explicit() -> None:
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "s1", "namespace": "default", "annotations": {
                   "contour.heptio.com/upstream-protocol.h2c": "grpc"}},
               "spec": {"ports": [{"name": "grpc", "port": 80}]}}
    spec, _ = proxy([root([{"match": "/", "services": [svc()]}]), service])
    assert spec["routes"][0]["services"][0]["protocol"] == "h2c"


def test_delegation_becomes_include_with_relative_child_conditions() -> None:
    objects = [
        root([{"match": "/", "services": [svc()]},
              {"match": "/blog", "delegate": {"name": "blog", "namespace": "web"}}]),
        ir("blog", {"routes": [{"match": "/blog", "services": [svc("b")]},
                               {"match": "/blog/admin", "services": [svc("adm")]},
                               {"match": "/blog/x", "delegate": {"name": "deep"}}]}, ns="web"),
        ir("deep", {"routes": [{"match": "/blog/x/y", "services": [svc("d")]}]}, ns="web"),
    ]
    spec, warnings = proxy(objects)
    assert spec["includes"] == [{"name": "blog", "namespace": "web",
                                 "conditions": [{"prefix": "/blog"}]}]
    blog, _ = proxy(objects, "blog")
    assert [r.get("conditions") for r in blog["routes"]] == [None, [{"prefix": "/admin"}]]
    assert blog["includes"] == [{"name": "deep", "namespace": "web",
                                 "conditions": [{"prefix": "/x"}]}]
    deep, _ = proxy(objects, "deep")
    assert deep["routes"][0]["conditions"] == [{"prefix": "/y"}]
    assert "virtualhost" not in blog and warnings == []


@pytest.mark.parametrize(("match", "prefix", "expected"), [
    ("/blog", "/blog", []),
    ("/blog/", "/blog", [{"prefix": "/"}]),
    ("/blog/a", "/blog", [{"prefix": "/a"}]),
    ("/a", "", [{"prefix": "/a"}]),
    ("/", "", [{"prefix": "/"}]),
])
def test_child_condition(match: str, prefix: str, expected: list[dict[str, str]]) -> None:
    assert child_condition(match, prefix) == expected


def test_tcpproxy_delegate_and_tls() -> None:
    spec, warnings = proxy([ir("root", {
        "virtualhost": {"fqdn": "t.example.com", "tls": {"passthrough": True}},
        "tcpproxy": {"delegate": {"name": "backend", "namespace": "tcp"}}})])
    assert spec["tcpproxy"] == {"include": {"name": "backend", "namespace": "tcp"}}
    assert spec["virtualhost"]["tls"] == {"passthrough": True}
    assert len(warnings) == 1 and "a 301 to https" in warnings[0]


@pytest.mark.parametrize(("tls", "expected", "warns"), [
    ({"secretName": "s"}, {"secretName": "s"}, True),
    ({"secretName": "s", "minimumProtocolVersion": "1.1"}, {"secretName": "s"}, True),
    ({"secretName": "s", "minimumProtocolVersion": "1.3"},
     {"secretName": "s", "minimumProtocolVersion": "1.3"}, False),
])
def test_tls_minimum_version(tls: dict[str, Any], expected: dict[str, Any], warns: bool) -> None:
    spec, warnings = proxy([root([], tls=tls)])
    assert spec["virtualhost"]["tls"] == expected
    assert bool(warnings) is warns
    assert all("TLS 1.1" in w for w in warnings)


def test_different_per_service_strategies_warn() -> None:
    _, warnings = proxy([root([{"match": "/", "services": [svc(strategy="Random"),
                                                           svc("s2", strategy="Cookie")]}])])
    assert len(warnings) == 1 and "different strategy" in warnings[0]


def test_ingress_class_annotation_becomes_ingress_class_name() -> None:
    obj = root([])
    obj["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "internal", "team": "a"}
    out = converted([obj]).objects[0]
    assert out["spec"]["ingressClassName"] == "internal"
    assert out["metadata"]["annotations"] == {"team": "a"}


def test_delegations_become_v1() -> None:
    d = {"apiVersion": IR, "kind": "TLSCertificateDelegation",
         "metadata": {"name": "d", "namespace": "secrets"},
         "spec": {"delegations": [{"secretName": "s", "targetNamespaces": ["*"]}]}}
    (out,) = converted([d]).objects
    assert out["apiVersion"] == "projectcontour.io/v1" and out["spec"] == d["spec"]


def test_only_what_the_controller_serves_is_converted() -> None:
    """A route outside its delegation prefix makes IngressRoute refuse it and every later
    route of the object (partial application); HTTPProxy would serve them below the
    include, so they are left out, with warnings."""
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "s", "namespace": "default"},
               "spec": {"ports": [{"port": 80}]}}
    objects = [service, root([{"match": "/blog", "delegate": {"name": "blog"}}]),
               ir("blog", {"routes": [{"match": "/blog/a", "services": [svc("s")]},
                                      {"match": "/other", "services": [svc("s")]},
                                      {"match": "/blog/b", "services": [svc("s")]}]})]
    dag = build_dag(Snapshot(objects=tuple(objects)), settings=BuilderSettings())
    result = convert(objects, served_by(dag))
    blog = next(o for o in result.objects if o["metadata"]["name"] == "blog")
    assert [r["conditions"] for r in blog["spec"]["routes"]] == [[{"prefix": "/a"}]]
    assert any("default/blog is invalid" in w for w in result.warnings)
    assert sum("is not served by the controller" in w for w in result.warnings) == 2


def test_delegation_to_a_root_is_not_an_include() -> None:
    objects = [root([{"match": "/c", "delegate": {"name": "child"}}]),
               ir("child", {"virtualhost": {"fqdn": "c.example.com"},
                            "routes": [{"match": "/c", "services": [svc()]}]})]
    spec, warnings = proxy(objects)
    child, _ = proxy(objects, "child")
    assert "includes" not in spec and child["routes"][0]["conditions"] == [{"prefix": "/c"}]
    assert len(warnings) == 1 and "which is a root" in warnings[0]
