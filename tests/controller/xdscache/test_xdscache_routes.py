"""RDS: DAG vhosts → `ingress_http` and `ingress_https` (spec §3.2)."""

from __future__ import annotations

import hashlib

from xdscache_samples import KUARD, SECRET, forward, redirect

from controller.dag import model as m
from controller.envoy import pb
from controller.envoy import route as er
from controller.xdscache.routes import (
    FALLBACK_ROUTES,
    HTTP_ROUTES,
    HTTPS_ROUTES,
    envoy_routes,
    route_configuration_bytes,
    routes,
)


def _matches(vhost: pb.VirtualHost) -> list[str]:
    return [r.match.prefix or r.match.safe_regex.regex for r in vhost.routes]


def test_always_two_route_tables() -> None:
    got = routes(m.DAG())
    assert got == {
        HTTP_ROUTES: er.route_configuration("ingress_http"),
        HTTPS_ROUTES: er.route_configuration("ingress_https"),
    }


def test_route_order_regex_first_then_reverse_lexicographic() -> None:
    given = (
        forward("/"),
        forward("/blog"),
        forward("/blog/admin"),
        forward("/insecure"),
        forward("/secure"),
        forward("/a.*", regex=True),
        forward("/z.*", regex=True),
    )
    got = envoy_routes(given, secure=False)
    assert [r.match.prefix or r.match.safe_regex.regex for r in got] == [
        "/z.*",
        "/a.*",
        "/secure",
        "/insecure",
        "/blog/admin",
        "/blog",
        "/",
    ]


def test_redirects_on_port_80_forward_on_443() -> None:
    vh = m.VirtualHost("example.com", (redirect("/"), forward("/open")))
    svh = m.SecureVirtualHost("example.com", (redirect("/"), forward("/open")), secret=SECRET)
    got = routes(m.DAG(http=(vh,), https=(svh,)))
    http_routes = got[HTTP_ROUTES].virtual_hosts[0].routes
    assert [r.WhichOneof("action") for r in http_routes] == ["route", "redirect"]
    assert http_routes[1].redirect.https_redirect
    assert not http_routes[1].request_headers_to_add
    https_routes = got[HTTPS_ROUTES].virtual_hosts[0].routes
    assert [r.WhichOneof("action") for r in https_routes] == ["route", "route"]


def test_vhosts_sorted_by_name_with_domains() -> None:
    long_host = "z" * 70 + ".example.com"  # its hashed name sorts first
    dag = m.DAG(
        http=(
            m.VirtualHost("*", (forward("/"),)),
            m.VirtualHost("a.io", (forward("/"),)),
            m.VirtualHost(long_host, (forward("/"),)),
        )
    )
    vhosts = routes(dag)[HTTP_ROUTES].virtual_hosts
    hashed = hashlib.sha256(long_host.encode()).hexdigest()[:60]
    assert [v.name for v in vhosts] == sorted(["*", "a.io", hashed])
    assert {v.name: list(v.domains) for v in vhosts} == {
        "*": ["*"],
        "a.io": ["a.io"],
        hashed: [long_host],
    }


def test_tcp_proxy_and_empty_vhosts_are_not_in_rds() -> None:
    proxy = m.SecureVirtualHost(
        "tcp.io", (forward("/"),), tcp_proxy=m.TCPProxy((m.Cluster(KUARD),))
    )
    bare = m.SecureVirtualHost("bare.io", secret=SECRET)
    served = m.SecureVirtualHost("web.io", (forward("/"),), secret=SECRET)
    got = routes(m.DAG(https=(proxy, bare, served)))
    assert [v.name for v in got[HTTPS_ROUTES].virtual_hosts] == ["web.io"]


def test_forwarding_route_without_clusters_is_dropped() -> None:
    vh = m.VirtualHost("a.io", (m.Route("/gone"), forward("/")))
    assert _matches(routes(m.DAG(http=(vh,)))[HTTP_ROUTES].virtual_hosts[0]) == ["/"]


def test_direct_responses_and_redirects_without_clusters_are_kept() -> None:
    vh = m.VirtualHost("a.io", (m.Route("/direct", direct_response=m.DirectResponse(404)),
                                m.Route("/moved", redirect=m.Redirect(hostname="b.io")),
                                m.Route("/gone")))
    assert _matches(routes(m.DAG(http=(vh,)))[HTTP_ROUTES].virtual_hosts[0]) == [
        "/moved", "/direct"]


def test_exact_paths_first_then_more_header_conditions() -> None:
    header = m.HeaderMatch("x", "present")
    vh = m.VirtualHost("a.io", (forward("/a"), m.Route("/a", (m.Cluster(KUARD),),
                                                       headers=(header,)),
                                m.Route("/a", (m.Cluster(KUARD),), exact=True)))
    got = routes(m.DAG(http=(vh,)))[HTTP_ROUTES].virtual_hosts[0].routes
    assert [(r.match.WhichOneof("path_specifier"), len(r.match.headers)) for r in got] == [
        ("path", 0), ("prefix", 1), ("prefix", 0)]


def test_fallback_table_holds_the_vhosts_that_enable_it() -> None:
    fallback = m.Secret("default", "fallback", b"c", b"k")
    on = m.SecureVirtualHost("on.io", (forward("/"),), secret=SECRET, fallback_certificate=True)
    off = m.SecureVirtualHost("off.io", (forward("/"),), secret=SECRET)
    got = routes(m.DAG(https=(on, off), fallback_secret=fallback))
    assert list(got) == [FALLBACK_ROUTES, HTTP_ROUTES, HTTPS_ROUTES]
    assert [v.name for v in got[FALLBACK_ROUTES].virtual_hosts] == ["on.io"]
    assert FALLBACK_ROUTES not in routes(m.DAG(https=(on, off)))


def test_route_configuration_bytes_equals_full_serialization() -> None:
    dag = m.DAG(
        http=tuple(m.VirtualHost(f"h{i}.io", (forward("/"), redirect("/r"))) for i in range(300))
    )
    full = routes(dag)[HTTP_ROUTES]
    spliced = route_configuration_bytes(
        HTTP_ROUTES, [v.SerializeToString() for v in full.virtual_hosts]
    )
    assert spliced == full.SerializeToString()
    assert pb.RouteConfiguration.FromString(spliced) == full
    assert route_configuration_bytes("x", []) == er.route_configuration("x").SerializeToString()


def test_a_strict_sni_vhost_has_its_own_table_answering_other_hosts_421() -> None:
    """HTTPProxy TLS vhosts (v1.33): their chain routes by `https/<host>`, which holds the
    vhost and a `*` vhost answering 421; the shared table leaves them out."""
    strict = m.SecureVirtualHost("a.com", (forward("/"),), SECRET, strict_sni=True)
    shared = m.SecureVirtualHost("b.com", (forward("/"),), SECRET)
    got = routes(m.DAG(https=(strict, shared)))
    assert sorted(got) == ["https/a.com", HTTP_ROUTES, HTTPS_ROUTES]
    assert [v.domains[:] for v in got[HTTPS_ROUTES].virtual_hosts] == [["b.com"]]
    own = {tuple(v.domains): v for v in got["https/a.com"].virtual_hosts}
    assert set(own) == {("a.com",), ("*",)}
    (catch_all,) = own[("*",)].routes
    assert catch_all.direct_response.status == 421 and catch_all.match.prefix == "/"
