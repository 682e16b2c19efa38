"""IngressRoute → vhosts, routes and clusters (spec §1.3–§1.7, §3.2, §3.5, §3.6)."""

from __future__ import annotations

from typing import Any

import pytest
from dagkit import (
    backend,
    build_dag,
    http_routes,
    http_vhost,
    https_routes,
    https_vhost,
    ingress,
    ir,
    path,
    route,
    rule,
    secret,
    service,
    statuses,
    svc,
    tls_pair,
    upstreams,
)

from controller.config import BuilderSettings
from controller.dag.model import (
    HealthCheck,
    Protocol,
    RetryPolicy,
    Timeout,
    UpstreamValidation,
)

Obj = dict[str, Any]
SERVICES = [
    service("kuard", ports=[("http", 8080)]),
    service("home", ports=[(None, 80)]),
    service("other", ports=[(None, 80)]),
]
KUARD = svc("kuard", 8080)


def tls_root(*routes: Obj, **tls: Any) -> Obj:
    return ir("root", fqdn="a.com", tls={"secretName": "tls", **tls}, routes=list(routes))


# -- TLS and redirects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "permit", "redirect"),
    [
        pytest.param(BuilderSettings(), False, True, id="tls-redirects"),
        pytest.param(BuilderSettings(), True, False, id="permit-insecure"),
        pytest.param(
            BuilderSettings(disable_permit_insecure=True), True, True, id="permit-insecure-disabled"
        ),
    ],
)
def test_tls_root_redirects_port_80(
    settings: BuilderSettings, permit: bool, redirect: bool
) -> None:
    dag = build_dag(
        *SERVICES,
        secret("tls"),
        tls_root(route("/", KUARD, permitInsecure=permit)),
        settings=settings,
    )
    assert http_routes(dag, "a.com")["/"].https_redirect is redirect
    secure = https_routes(dag, "a.com")["/"]
    assert not secure.https_redirect and upstreams(secure) == [("default/kuard", 8080, 0)]
    svh = https_vhost(dag, "a.com")
    assert svh is not None and svh.secret is not None and svh.secret.name == "tls"


@pytest.mark.parametrize(
    ("version", "expected"), [("1.3", "1.3"), ("1.2", "1.2"), ("", "1.1"), ("0.9999", "1.1")]
)
def test_min_tls_version(version: str, expected: str) -> None:
    dag = build_dag(
        *SERVICES, secret("tls"), tls_root(route("/", KUARD), minimumProtocolVersion=version)
    )
    assert https_vhost(dag, "a.com").min_tls_version == expected  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "objs",
    [
        pytest.param([tls_root(route("/", KUARD))], id="secret-missing"),
        pytest.param(
            [
                secret("tls", "certs"),
                ir(
                    "root",
                    fqdn="a.com",
                    tls={"secretName": "certs/tls"},
                    routes=[route("/", KUARD)],
                ),
            ],
            id="not-delegated",
        ),
        pytest.param(
            [ir("root", fqdn="a.com", tls={"passthrough": True}, routes=[route("/", KUARD)])],
            id="passthrough-without-tcpproxy",
        ),
    ],
)
def test_unusable_tls_serves_plain_http(objs: list[Obj]) -> None:
    dag = build_dag(*SERVICES, *objs)
    assert not http_routes(dag, "a.com")["/"].https_redirect
    assert dag.https == ()


def test_secret_name_wins_over_passthrough() -> None:
    dag = build_dag(*SERVICES, secret("tls"), tls_root(route("/", KUARD), passthrough=True))
    assert https_vhost(dag, "a.com").secret is not None  # type: ignore[union-attr]
    assert http_routes(dag, "a.com")["/"].https_redirect


# -- tcpproxy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tls", "secret_expected"),
    [({"passthrough": True}, False), ({"secretName": "tls"}, True)],
    ids=["passthrough", "terminated"],
)
def test_tcpproxy(tls: Obj, secret_expected: bool) -> None:
    root = ir(
        "root",
        fqdn="tcp.com",
        tls=tls,
        routes=[route("/", KUARD)],
        tcpproxy={"services": [svc("kuard", 8080, weight=7, strategy="Random"), svc("home", 80)]},
    )
    dag = build_dag(*SERVICES, secret("tls"), root)
    svh = https_vhost(dag, "tcp.com")
    assert svh is not None and svh.tcp_proxy is not None and svh.routes == ()
    assert (svh.secret is not None) is secret_expected
    assert [(c.service.name, c.weight, c.strategy) for c in svh.tcp_proxy.clusters] == [
        ("kuard", 1, "Random"),
        ("home", 1, ""),
    ]
    assert http_vhost(dag, "tcp.com") is None  # routes are ignored when tcpproxy is used


def test_tcpproxy_ignored_without_usable_tls_routes_served() -> None:
    root = ir(
        "root",
        fqdn="tcp.com",
        tls={"secretName": "missing"},
        routes=[route("/", KUARD)],
        tcpproxy={"services": [KUARD]},
    )
    dag = build_dag(*SERVICES, root)
    assert dag.https == () and "/" in http_routes(dag, "tcp.com")


def test_tcpproxy_does_not_honour_protocol_or_external_name() -> None:
    objs = [
        service(
            "ext",
            ports=[("https", 443)],
            external_name="backend.example.org",
            annotations={"contour.heptio.com/upstream-protocol.tls": "https"},
        ),
        ir(
            "root",
            fqdn="tcp.com",
            tls={"passthrough": True},
            tcpproxy={"delegate": {"name": "child"}},
        ),
        ir("child", tcpproxy={"services": [svc("ext", 443)]}),
    ]
    port = https_vhost(build_dag(*objs), "tcp.com").tcp_proxy.clusters[0].service  # type: ignore
    assert (port.protocol, port.external_name, port.port_name) == (Protocol.HTTP1, "", "https")


# -- route contents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("services", "weights"),
    [
        pytest.param(
            [svc("kuard", 8080, weight=10), svc("home", 80, weight=90)], [10, 90], id="all"
        ),
        pytest.param([svc("kuard", 8080), svc("home", 80)], [0, 0], id="none"),
        pytest.param([svc("kuard", 8080, weight=5), svc("home", 80)], [5, 0], id="some"),
        pytest.param([svc("kuard", 8080, weight=90)], [90], id="single"),
        pytest.param(
            [svc("home", 80, weight=90), svc("home", 80, weight=60)],
            [90, 60],
            id="same-service-twice",
        ),
    ],
)
def test_weights_kept_as_given(services: list[Obj], weights: list[int]) -> None:
    dag = build_dag(*SERVICES, ir("root", fqdn="a.com", routes=[route("/", *services)]))
    assert [c.weight for c in http_routes(dag, "a.com")["/"].clusters] == weights


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param({}, None, id="empty-policy"),
        pytest.param({"request": ""}, None, id="empty"),
        pytest.param({"request": "0s"}, None, id="zero"),
        pytest.param({"request": "infinity"}, Timeout.INFINITE, id="infinity"),
        pytest.param({"request": "peanut"}, Timeout.INFINITE, id="garbage"),
        pytest.param({"request": "1m30s"}, 90.0, id="duration"),
    ],
)
def test_timeout_policy(policy: Obj | None, expected: float | None) -> None:
    extra = {} if policy is None else {"timeoutPolicy": policy}
    dag = build_dag(*SERVICES, ir("root", fqdn="a.com", routes=[route("/", KUARD, **extra)]))
    assert http_routes(dag, "a.com")["/"].timeout == expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param({}, RetryPolicy("5xx", 1, 0.0), id="empty-is-one-retry"),
        pytest.param({"count": -3}, RetryPolicy("5xx", 1, 0.0), id="negative-count"),
        pytest.param(
            {"count": 7, "perTryTimeout": "150ms"},
            RetryPolicy("5xx", 7, 0.15),
            id="count-and-per-try",
        ),
        pytest.param(
            {"count": 2, "perTryTimeout": "infinity"},
            RetryPolicy("5xx", 2, 0.0),
            id="per-try-infinity-unset",
        ),
        pytest.param({"count": 10**20}, RetryPolicy("5xx", 2**32 - 1, 0.0), id="huge-count"),
    ],
)
def test_retry_policy(policy: Obj | None, expected: RetryPolicy | None) -> None:
    extra = {} if policy is None else {"retryPolicy": policy}
    dag = build_dag(*SERVICES, ir("root", fqdn="a.com", routes=[route("/", KUARD, **extra)]))
    assert http_routes(dag, "a.com")["/"].retry == expected


def test_route_details() -> None:
    hc = {"path": "/healthz", "intervalSeconds": 5, "unhealthyThresholdCount": 3}
    dag = build_dag(
        *SERVICES,
        ir(
            "root",
            fqdn="a.com",
            routes=[
                route("/ws", KUARD, enableWebsockets=True, prefixRewrite="/"),
                route("/hc", svc("home", 80, healthCheck=hc, strategy="Cookie")),
            ],
        ),
    )
    r = http_routes(dag, "a.com")
    assert (r["/ws"].websocket, r["/ws"].prefix_rewrite) == (True, "/")
    cluster = r["/hc"].clusters[0]
    assert cluster.strategy == "Cookie"
    assert cluster.health_check == HealthCheck("/healthz", "", 5, 0, 3, 0)


def test_service_annotations_shape_the_port() -> None:
    objs = [
        service(
            "s",
            ports=[("h2port", 80), (None, 81), ("x", 82)],
            annotations={
                "contour.heptio.com/upstream-protocol.h2": "h2port,82",
                "contour.heptio.com/upstream-protocol.h2c": "81",
                "contour.heptio.com/max-connections": "9",
                "contour.heptio.com/max-retries": "1e6",
            },
        ),
        service("ext", ports=[(None, 80)], external_name="Backend.Example.org"),
        ir(
            "root",
            fqdn="a.com",
            routes=[
                route("/a", svc("s", 80)),
                route("/b", svc("s", 81)),
                route("/c", svc("s", 82)),
                route("/d", svc("ext", 80)),
            ],
        ),
    ]
    r = http_routes(build_dag(*objs), "a.com")
    ports = {m: r[m].clusters[0].service for m in r}
    assert [ports[m].protocol for m in ["/a", "/b", "/c"]] == [
        Protocol.H2,
        Protocol.H2C,
        Protocol.H2,
    ]
    assert (ports["/a"].port_name, ports["/a"].max_connections, ports["/a"].max_retries) == (
        "h2port",
        9,
        0,
    )
    assert ports["/a"].eds_name == "default/s/h2port" and ports["/b"].eds_name == "default/s"
    assert ports["/d"].external_name == "backend.example.org"


def test_upstream_validation() -> None:
    ca = tls_pair()[0]
    objs = [
        service(
            "tlsb",
            ports=[("https", 443)],
            annotations={"contour.heptio.com/upstream-protocol.tls": "443"},
        ),
        secret("ca", type="Opaque", ca=ca),
        ir(
            "root",
            fqdn="a.com",
            routes=[
                route(
                    "/",
                    svc("tlsb", 443, validation={"caSecret": "ca", "subjectName": "backend.local"}),
                )
            ],
        ),
    ]
    dag = build_dag(*objs)
    cluster = http_routes(dag, "a.com")["/"].clusters[0]
    assert cluster.service.protocol is Protocol.TLS
    assert cluster.validation == UpstreamValidation("ca", ca, "backend.local")
    assert statuses(dag)["default/root"][0] == "valid"


def test_validation_error_keeps_route_without_validation() -> None:
    objs = [
        service(
            "tlsb",
            ports=[("https", 443)],
            annotations={"contour.heptio.com/upstream-protocol.tls": "https"},
        ),
        ir(
            "root",
            fqdn="a.com",
            routes=[
                route(
                    "/", svc("tlsb", 443, validation={"caSecret": "missing", "subjectName": "x"})
                ),
                route("/b", svc("tlsb", 443)),
            ],
        ),
    ]
    dag = build_dag(*objs)
    r = http_routes(dag, "a.com")
    assert set(r) == {"/", "/b"} and r["/"].clusters[0].validation is None
    assert statuses(dag)["default/root"][0] == "invalid"


# -- delegation -------------------------------------------------------------------------------


def test_cross_namespace_delegation_resolves_services_in_child_namespace() -> None:
    objs = [
        service("s2", "marketing"),
        service("s2", "default", ports=[(None, 81)]),
        ir(
            "root",
            fqdn="a.com",
            routes=[route("/blog", delegate={"name": "blog", "namespace": "marketing"})],
        ),
        ir(
            "blog",
            "marketing",
            routes=[route("/blog", svc("s2", 80)), route("/blog/admin", delegate="admin")],
        ),
        ir("admin", "marketing", routes=[route("/blog/admin", svc("s2", 80))]),
        ir("admin", "default", routes=[route("/blog/admin", svc("s2", 81))]),
    ]
    dag = build_dag(*objs)
    r = http_routes(dag, "a.com")
    assert upstreams(r["/blog"]) == [("marketing/s2", 80, 0)]
    assert upstreams(r["/blog/admin"]) == [("marketing/s2", 80, 0)]
    assert statuses(dag)["default/admin"][0] == "orphaned"


def test_diamond_and_vhost_aliases() -> None:
    objs = [
        *SERVICES,
        ir("a", fqdn="a.com", routes=[route("/", delegate="left"), route("/", delegate="right")]),
        ir("b", fqdn="B.com", routes=[route("/", delegate="left")]),
        ir("left", routes=[route("/", delegate="shared")]),
        ir("right", routes=[route("/", delegate="shared")]),
        ir("shared", routes=[route("/", KUARD)]),
    ]
    dag = build_dag(*objs)
    assert set(http_routes(dag, "a.com")) == {"/"} and set(http_routes(dag, "b.com")) == {"/"}
    assert all(s.current == "valid" for s in dag.statuses)


@pytest.mark.parametrize(
    ("routes", "served"),
    [
        pytest.param(
            [
                route("/", KUARD),
                route("/ws-1", KUARD, svc("home", 80), enableWebsockets=True),
                route("/ws-2", KUARD),
            ],
            {"/"},
            id="websocket-error-drops-later-routes",
        ),
        pytest.param(
            [route("/a", KUARD), route("/b", svc("missing", 80)), route("/c", KUARD)],
            {"/a"},
            id="missing-service-drops-later-routes",
        ),
        pytest.param(
            [route("/", KUARD), route("/x", delegate="cyclic"), route("/y", KUARD)],
            {"/", "/x/kept", "/y"},
            id="cycle-in-child-keeps-child-routes",
        ),
    ],
)
def test_partial_application(routes: list[Obj], served: set[str]) -> None:
    dag = build_dag(
        *SERVICES,
        ir("root", fqdn="a.com", routes=routes),
        ir("cyclic", routes=[route("/x/kept", KUARD), route("/x", delegate="root")]),
    )
    assert set(http_routes(dag, "a.com")) == served


def test_route_order_and_overwrite() -> None:
    objs = [
        *SERVICES,
        ingress(
            "ing",
            rules=[
                rule(
                    "a.com",
                    path("/", backend("home", 80)),
                    path("/ingress-only", backend("home", 80)),
                )
            ],
        ),
        ir(
            "root",
            fqdn="a.com",
            routes=[
                route("/", KUARD),
                route("/blog", KUARD),
                route("/blog/admin", KUARD),
                route("/b", KUARD),
                route("/blog", svc("other", 80)),
            ],
        ),
    ]
    vh = http_vhost(build_dag(*objs), "a.com")
    assert vh is not None
    assert [r.match for r in vh.routes] == ["/ingress-only", "/blog/admin", "/blog", "/b", "/"]
    by_match = {r.match: r for r in vh.routes}
    assert upstreams(by_match["/"]) == [("default/kuard", 8080, 0)]  # IngressRoute overwrote
    assert upstreams(by_match["/blog"]) == [("default/other", 80, 0)]  # later route overwrote


def test_ingress_tls_host_serves_ingressroute_routes_on_443() -> None:
    objs = [
        *SERVICES,
        secret("tls"),
        ingress(
            "ing",
            tls=[{"hosts": ["a.com"], "secretName": "tls"}],
            rules=[rule("a.com", path("/.well-known", backend("home", 80)))],
        ),
        ir("root", fqdn="a.com", routes=[route("/", KUARD)]),
    ]
    dag = build_dag(*objs)
    assert set(https_routes(dag, "a.com")) == {"/", "/.well-known"}
    assert not http_routes(dag, "a.com")["/"].https_redirect  # the root has no TLS of its own


def test_hosts_are_lower_cased_and_sorted() -> None:
    dag = build_dag(
        *SERVICES,
        ir("b", fqdn="B.Example.COM", routes=[route("/", KUARD)]),
        ir("a", fqdn="a.example.com", routes=[route("/", KUARD)]),
    )
    assert [v.host for v in dag.http] == ["a.example.com", "b.example.com"]
    assert dag.statuses[1].vhost == "b.example.com"
