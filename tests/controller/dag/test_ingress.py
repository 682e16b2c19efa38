"""Ingress (networking.k8s.io/v1) → vhosts and routes (spec §2.1, §2.2, §0.6)."""

from __future__ import annotations

from typing import Any

import pytest
from dagkit import (
    backend,
    build_dag,
    delegation,
    http_routes,
    https_routes,
    https_vhost,
    ingress,
    path,
    rule,
    secret,
    service,
    upstreams,
)

from controller.dag.ingress import path_match, re2_compatible
from controller.dag.model import RetryPolicy, Timeout

Obj = dict[str, Any]
SERVICES = [service("web", ports=[("http", 80), ("admin", 9000)]), service("api")]
WEB = backend("web", 80)


def routes_80(*objs: Obj) -> dict[str, dict[str, tuple[bool, bool]]]:
    """host → match → (regex, https_redirect) on port 80."""
    dag = build_dag(*SERVICES, *objs)
    return {v.host: {r.match: (r.regex, r.https_redirect) for r in v.routes} for v in dag.http}


@pytest.mark.parametrize(
    ("ing", "expected"),
    [
        pytest.param(ingress("i", default=WEB), {"*": {"/": (False, False)}}, id="default-backend"),
        pytest.param(
            ingress("i", rules=[rule("A.com", path("/x", WEB)), rule("b.com", path(None, WEB))]),
            {"a.com": {"/x": (False, False)}, "b.com": {"/": (False, False)}},
            id="hosts-and-empty-path",
        ),
        pytest.param(
            ingress("i", rules=[rule(None, path("/hello", WEB))]),
            {"*": {"/hello": (False, False)}},
            id="rule-without-host",
        ),
        pytest.param(
            ingress("i", rules=[{"host": "a.com"}, rule("b.com", path("/", WEB))]),
            {"b.com": {"/": (False, False)}},
            id="rule-without-http",
        ),
        pytest.param(
            ingress(
                "i",
                rules=[
                    rule(
                        "a.com",
                        path("/", backend("missing", 80)),
                        path("/p", backend("web", 81)),
                        path("/ok", backend("web", "admin")),
                    )
                ],
            ),
            {"a.com": {"/ok": (False, False)}},
            id="missing-service-or-port-skipped",
        ),
        pytest.param(
            ingress(
                "i", rules=[rule("a.com", path("/[^/]+/invoices(/.*|/?)", WEB), path("/", WEB))]
            ),
            {"a.com": {"/[^/]+/invoices(/.*|/?)": (True, False), "/": (False, False)}},
            id="regex-path",
        ),
        pytest.param(
            ingress(
                "i",
                rules=[
                    rule(
                        "a.com",
                        path("/foo/", WEB, "Prefix"),
                        path("/", WEB, "Prefix"),
                        path("/a.b", WEB, "Exact"),
                    )
                ],
            ),
            {
                "a.com": {
                    "^/foo(/.*)?$": (True, False),
                    "/": (False, False),
                    "^\\/a\\.b$": (True, False),
                }
            },
            id="prefix-and-exact",
        ),
        pytest.param(
            ingress(
                "i",
                annotations={"ingress.kubernetes.io/force-ssl-redirect": "true"},
                rules=[rule("a.com", path("/", WEB))],
            ),
            {"a.com": {"/": (False, True)}},
            id="force-ssl-redirect-without-tls",
        ),
        pytest.param(
            ingress(
                "i",
                annotations={"kubernetes.io/ingress.allow-http": "false"},
                rules=[rule("a.com", path("/", WEB))],
                default=WEB,
            ),
            {},
            id="allow-http-false",
        ),
        pytest.param(
            ingress(
                "i",
                annotations={
                    "kubernetes.io/ingress.allow-http": "false",
                    "ingress.kubernetes.io/force-ssl-redirect": "true",
                },
                rules=[rule("a.com", path("/", WEB))],
            ),
            {"a.com": {"/": (False, True)}},
            id="force-ssl-beats-allow-http",
        ),
        pytest.param(
            ingress(
                "i", rules=[rule("bad_host!", path("/", WEB)), rule("*.wild.com", path("/", WEB))]
            ),
            {"*.wild.com": {"/": (False, False)}},
            id="invalid-host-skipped-wildcard-ok",
        ),
    ],
)
def test_ingress_routes(ing: Obj, expected: dict[str, Any]) -> None:
    assert routes_80(ing) == expected


def test_backend_port_by_name_and_numeric_string() -> None:
    ing = ingress(
        "i",
        rules=[
            rule(
                "a.com",
                path("/n", backend("web", "admin")),
                path("/s", {"serviceName": "web", "servicePort": "9000"}),
                path("/i", {"serviceName": "web", "servicePort": 80}),
            )
        ],
    )
    r = http_routes(build_dag(*SERVICES, ing), "a.com")
    assert [upstreams(r[m])[0][1] for m in ("/n", "/s", "/i")] == [9000, 9000, 80]
    assert r["/n"].clusters[0].service.port_name == "admin"


def test_overlay_later_ingress_wins_and_tls_applies_across_ingresses() -> None:
    objs = [
        secret("tls"),
        ingress(
            "a",
            tls=[{"hosts": ["a.com"], "secretName": "tls"}],
            rules=[rule("a.com", path("/", WEB))],
        ),
        ingress("b", "other", rules=[rule("a.com", path("/.well-known/acme", backend("api", 80)))]),
        service("api", "other"),
        ingress("c", rules=[rule("a.com", path("/", backend("api", 80)))]),
    ]
    dag = build_dag(*SERVICES, *objs)
    assert upstreams(http_routes(dag, "a.com")["/"]) == [("default/api", 80, 0)]
    assert set(https_routes(dag, "a.com")) == {"/", "/.well-known/acme"}
    assert not any(r.https_redirect for r in https_routes(dag, "a.com").values())


def test_tls_secure_vhost_even_without_routes_and_never_for_default_backend() -> None:
    objs = [
        secret("tls"),
        ingress(
            "i",
            default=WEB,
            tls=[{"hosts": ["KUARD.example.com"], "secretName": "tls"}],
            annotations={"contour.heptio.com/tls-minimum-protocol-version": "1.3"},
        ),
    ]
    dag = build_dag(*SERVICES, *objs)
    svh = https_vhost(dag, "kuard.example.com")
    assert svh is not None and svh.routes == () and svh.min_tls_version == "1.3"
    assert [v.host for v in dag.https] == ["kuard.example.com"]
    assert "/" in http_routes(dag, "*")


@pytest.mark.parametrize(
    ("objs", "https"),
    [
        pytest.param(
            [secret("tls", "certs"), delegation("d", "certs", ("tls", ["default"]))],
            True,
            id="delegated",
        ),
        pytest.param(
            [secret("tls", "certs"), delegation("d", "certs", ("tls", ["elsewhere"]))],
            False,
            id="not-delegated",
        ),
        pytest.param(
            [
                secret("tls", "certs", cert=b"junk", key=b"junk"),
                delegation("d", "certs", ("tls", ["*"])),
            ],
            False,
            id="invalid-secret",
        ),
    ],
)
def test_tls_secret_from_another_namespace(objs: list[Obj], https: bool) -> None:
    ing = ingress(
        "i",
        tls=[{"hosts": ["a.com"], "secretName": "certs/tls"}],
        rules=[rule("a.com", path("/", WEB))],
    )
    dag = build_dag(*SERVICES, *objs, ing)
    assert bool(https_routes(dag, "a.com")) is https
    assert "/" in http_routes(dag, "a.com")


def test_annotations_shape_routes() -> None:
    ing = ingress(
        "i",
        rules=[rule("a.com", path("/ws1", WEB), path("/ws2x", WEB), path("/", WEB))],
        annotations={
            "contour.heptio.com/websocket-routes": "/ws1 , /ws2",
            "contour.heptio.com/request-timeout": "infinity",
            "contour.heptio.com/retry-on": "5xx,gateway-error",
            "contour.heptio.com/num-retries": "-1",
            "contour.heptio.com/per-try-timeout": "junk",
        },
    )
    r = http_routes(build_dag(*SERVICES, ing), "a.com")
    assert {m: x.websocket for m, x in r.items()} == {"/ws1": True, "/ws2x": False, "/": False}
    assert r["/"].timeout == Timeout.INFINITE
    assert r["/"].retry == RetryPolicy("5xx,gateway-error", 0, 0.0)


def test_no_retry_without_retry_on() -> None:
    ing = ingress(
        "i",
        rules=[rule("a.com", path("/", WEB))],
        annotations={
            "contour.heptio.com/num-retries": "3",
            "contour.heptio.com/request-timeout": "",
        },
    )
    r = http_routes(build_dag(*SERVICES, ing), "a.com")["/"]
    assert (r.retry, r.timeout) == (None, None)


@pytest.mark.parametrize(
    ("annotations", "class_name", "served"),
    [
        pytest.param({}, None, True, id="no-class"),
        pytest.param({"kubernetes.io/ingress.class": "contour"}, None, True, id="contour"),
        pytest.param({"kubernetes.io/ingress.class": "nginx"}, None, False, id="other"),
        pytest.param(
            {"contour.heptio.com/ingress.class": "contour", "kubernetes.io/ingress.class": "nginx"},
            None,
            True,
            id="contour-key-first",
        ),
        pytest.param({}, "nginx", False, id="ingressClassName-other"),
        pytest.param({}, "contour", True, id="ingressClassName-contour"),
    ],
)
def test_ingress_class(annotations: dict[str, str], class_name: str | None, served: bool) -> None:
    ing = ingress(
        "i", rules=[rule("a.com", path("/", WEB))], annotations=annotations, class_name=class_name
    )
    assert bool(routes_80(ing)) is served


@pytest.mark.parametrize(
    ("p", "path_type", "expected"),
    [
        pytest.param("", "", ("/", False), id="empty"),
        pytest.param("/foo", None, ("/foo", False), id="no-type"),
        pytest.param("/foo%20", "ImplementationSpecific", ("/foo%20", True), id="percent-is-regex"),
        pytest.param("/a+b", "Prefix", ("^/a\\+b(/.*)?$", True), id="prefix-escapes"),
        pytest.param("/", "Exact", ("^\\/$", True), id="exact-root"),
        pytest.param("/a b", "", None, id="space"),
        pytest.param("/a\tb", "Prefix", None, id="tab"),
        pytest.param("/a\x00", "Exact", None, id="nul"),
        pytest.param("/a\u200b", "", None, id="zero-width"),
        pytest.param("relative", "", None, id="not-absolute"),
        pytest.param("/x", "Regex", None, id="unknown-type"),
        pytest.param("/(?=x)*", "", None, id="lookahead"),
        pytest.param("/[a-", "", None, id="unparseable"),
    ],
)
def test_path_match(p: str, path_type: str | None, expected: tuple[str, bool] | None) -> None:
    assert path_match(p, path_type or "") == expected


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("/[^/]+/invoices(/.*|/?)", True),
        ("/api/v[0-9]+/.*", True),
        ("/(?i:abc)+", True),
        ("/(?P<id>[0-9]+)*", True),
        ("/x{2,5}", True),
        ("/a+?", True),
        ("/\\x41*", True),
        ("/[]a]*", True),
        ("/(a)\\1*", False),
        ("/(?=a)*", False),
        ("/(?!a)*", False),
        ("/(?<=a)b*", False),
        ("/(?<!a)b*", False),
        ("/(?P<n>a)(?P=n)*", False),
        ("/a*+", False),
        ("/a++", False),
        ("/a{2}+", False),
        ("/(?>a)*", False),
        ("/(?x)a *", False),
        ("/a*\\Z", False),
        ("/\\u0041*", False),
        ("/x{1001}", False),
        ("/[[:alpha:]]*", False),
        ("/(?(1)a|b)*", False),
        ("/(?#c)a*", False),
        ("/\\_*", False),
        ("/" + "a" * 120 + "*", False),
        ("/" + ".*" * 12, False),
    ],
    ids=lambda v: repr(v)[:30] if isinstance(v, str) else str(v),
)
def test_re2_compatible(pattern: str, ok: bool) -> None:
    assert re2_compatible(pattern) is ok


def test_invalid_regex_path_skipped_not_the_ingress() -> None:
    ing = ingress(
        "i", rules=[rule("a.com", path("/(?=x)*", WEB), path("/good[0-9]*", WEB), path("/[", WEB))]
    )
    assert routes_80(ing) == {"a.com": {"/good[0-9]*": (True, False)}}
