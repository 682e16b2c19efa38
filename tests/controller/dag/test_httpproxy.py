"""HTTPProxy roots, includes and statuses through both builders (v1.33's strings verbatim)."""

from __future__ import annotations

from typing import Any

import dagkit as k
import pytest

from controller.config import BuilderSettings
from controller.dag.model import DAG, DirectResponse, HeaderMatch, Route

Obj = dict[str, Any]
S1 = k.service("s1")
HOME = k.hp_route(k.hp_svc("s1"))
ERR = "At least one error present, see Errors for details"


def _routes(dag: DAG, host: str) -> list[tuple[str, str, tuple[str, ...], int | None]]:
    """(kind, path, services, direct status) per port-80 route, in Envoy order."""
    vh = k.http_vhost(dag, host)
    return [(_kind(r), r.match, tuple(c.service.name for c in r.clusters),
             r.direct_response.status if r.direct_response else None)
            for r in (vh.routes if vh else ())]


def _kind(r: Route) -> str:
    return "exact" if r.exact else "regex" if r.regex else "prefix"


STATUS_CASES: list[tuple[str, list[Obj], str, str, list[tuple[str, str, str]]]] = [
    ("valid", [S1, k.hp("a", fqdn="a.com", routes=[HOME])], "a", "valid", []),
    ("blank fqdn", [S1, k.hp("a", fqdn=" ", routes=[HOME])], "a", "invalid",
     [("VirtualHostError", "FQDNNotSpecified", "Spec.VirtualHost.Fqdn must be specified")]),
    ("nothing defined", [k.hp("a", fqdn="a.com")], "a", "invalid",
     [("SpecError", "NothingDefined",
       "HTTPProxy.Spec must have at least one Route, Include, or a TCPProxy")]),
    ("duplicate vhost", [S1, k.hp("a", fqdn="A.com", routes=[HOME]),
                         k.hp("b", fqdn="a.com", routes=[HOME])], "b", "invalid",
     [("VirtualHostError", "DuplicateVhost",
       'fqdn "a.com" is used in multiple HTTPProxies: default/a, default/b')]),
    ("orphan", [S1, k.hp("c", routes=[HOME])], "c", "orphaned",
     [("Orphaned", "Orphaned",
       "this HTTPProxy is not part of a delegation chain from a root HTTPProxy")]),
    ("missing include", [S1, k.hp("a", fqdn="a.com", routes=[HOME], includes=[
        k.include("x", "n", [{"prefix": "/x"}])])], "a", "invalid",
     [("IncludeError", "IncludeNotFound", "include n/x not found")]),
    ("root includes root", [S1, k.hp("a", fqdn="a.com", includes=[k.include("a")])], "a",
     "invalid",
     [("IncludeError", "RootIncludesRoot",
       "root httpproxy cannot include another root httpproxy (default/a)")]),
    ("self cycle", [S1, k.hp("p", fqdn="a.com", includes=[k.include("c")]),
                    k.hp("c", includes=[k.include("c")], routes=[HOME])], "c", "invalid",
     [("IncludeError", "IncludeCreatesCycle",
       "include creates an include cycle: default/p -> default/c -> default/c")]),
    ("duplicate include", [S1, k.hp("a", fqdn="a.com", includes=[
        k.include("c", conditions=[{"prefix": "/x"}]),
        k.include("d", conditions=[{"prefix": "/x"}])]),
        k.hp("c", routes=[HOME]), k.hp("d", routes=[HOME])], "a", "invalid",
     [("IncludeError", "DuplicateMatchConditions", "duplicate conditions defined on an include")]),
    ("missing service", [k.hp("a", fqdn="a.com", routes=[k.hp_route(k.hp_svc("nope"))])], "a",
     "invalid",
     [("ServiceError", "ServiceUnresolvedReference",
       'Spec.Routes unresolved service reference: service "default/nope" not found')]),
    ("port not matched", [S1, k.hp("a", fqdn="a.com", routes=[k.hp_route(k.hp_svc("s1", 81))])],
     "a", "invalid",
     [("ServiceError", "ServiceUnresolvedReference",
       'Spec.Routes unresolved service reference: port "81" on service "default/s1" not matched')]),
    ("port range", [S1, k.hp("a", fqdn="a.com", routes=[k.hp_route(k.hp_svc("s1", 0))])], "a",
     "invalid",
     [("ServiceError", "ServicePortInvalid", 'service "s1": port must be in the range 1-65535')]),
    ("no action", [k.hp("a", fqdn="a.com", routes=[{}])], "a", "invalid",
     [("RouteError", "RouteActionCountNotValid",
       "must set exactly one of route.services or route.requestRedirectPolicy or "
       "route.directResponsePolicy")]),
    ("root namespace", [S1, k.hp("a", fqdn="a.com", routes=[HOME])], "a", "invalid",
     [("RootNamespaceError", "RootProxyNotAllowedInNamespace",
       "root HTTPProxy cannot be defined in this namespace")]),
    ("authorization needs TLS",
     [S1, k.hp("a", fqdn="a.com", routes=[HOME],
               vhost={"authorization": {"extensionRef": {"name": "authz"}}})], "a", "invalid",
     [("AuthError", "AuthNotPermitted",
       "Spec.VirtualHost.Authorization.ExtensionServiceRef can only be defined for root "
       "HTTPProxies that terminate TLS")]),
    ("errors accumulate", [k.hp("a", fqdn="a.com", routes=[
        k.hp_route(k.hp_svc("x"), k.hp_svc("y"))], includes=[k.include("m")])], "a", "invalid",
     [("IncludeError", "IncludeNotFound", "include default/m not found"),
      ("ServiceError", "ServiceUnresolvedReference",
       'Spec.Routes unresolved service reference: service "default/x" not found'),
      ("ServiceError", "ServiceUnresolvedReference",
       'Spec.Routes unresolved service reference: service "default/y" not found')]),
]


@pytest.mark.parametrize(("objs", "name", "current", "errors"),
                         [c[1:] for c in STATUS_CASES], ids=[c[0] for c in STATUS_CASES])
def test_status(objs: list[Obj], name: str, current: str,
                errors: list[tuple[str, str, str]]) -> None:
    settings = BuilderSettings(root_namespaces=frozenset({"roots"})) \
        if errors and errors[0][0] == "RootNamespaceError" else BuilderSettings()
    dag = k.build_both(*objs, settings=settings)
    got_current, got_errors, _ = k.hp_status(dag, "default", name)
    assert (got_current, got_errors) == (current, errors)
    s = next(s for s in dag.statuses if s.name == name)
    description = {"valid": "Valid HTTPProxy", "invalid": ERR}.get(current, errors and errors[0][2])
    assert s.description == description


ROUTE_CASES: list[tuple[str, list[Obj], list[tuple[str, str, tuple[str, ...], int | None]]]] = [
    ("no conditions is prefix /", [S1, k.hp("a", fqdn="a.com", routes=[HOME])],
     [("prefix", "/", ("s1",), None)]),
    ("include prefix concatenation", [S1, k.hp("a", fqdn="a.com", includes=[
        k.include("c", conditions=[{"prefix": "/app/"}])]),
        k.hp("c", routes=[k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/v1"}]),
                          k.hp_route(k.hp_svc("s1"), conditions=[{"exact": "/foo"}])])],
     [("exact", "/app/foo", ("s1",), None), ("prefix", "/app/v1", ("s1",), None)]),
    ("missing include answers 502", [S1, k.hp("a", fqdn="a.com", routes=[HOME], includes=[
        k.include("x", conditions=[{"prefix": "/x"}])])],
     [("prefix", "/x", (), 502), ("prefix", "/", ("s1",), None)]),
    ("missing service answers 503", [k.hp("a", fqdn="a.com", routes=[
        k.hp_route(k.hp_svc("nope"))])], [("prefix", "/", (), 503)]),
    ("invalid route drops the proxy's routes", [S1, k.hp("a", fqdn="a.com", includes=[
        k.include("c", conditions=[{"prefix": "/c"}])], routes=[HOME, {}]),
        k.hp("c", routes=[HOME])], []),
    ("cross-namespace services resolve in the child's namespace", [
        k.service("s2", "m"), k.hp("a", fqdn="a.com", includes=[
            k.include("c", "m", [{"prefix": "/m"}])]),
        k.hp("c", "m", routes=[k.hp_route(k.hp_svc("s2"))])],
     [("prefix", "/m", ("s2",), None)]),
    ("direct response", [k.hp("a", fqdn="a.com", routes=[
        k.hp_route(directResponsePolicy={"statusCode": 418, "body": "tea"})])],
     [("prefix", "/", (), 418)]),
]


@pytest.mark.parametrize(("objs", "want"), [c[1:] for c in ROUTE_CASES],
                         ids=[c[0] for c in ROUTE_CASES])
def test_routes(objs: list[Obj], want: list[tuple[str, str, tuple[str, ...], int | None]]
                ) -> None:
    assert _routes(k.build_both(*objs), "a.com") == want


def test_child_of_invalid_root_is_orphaned_unless_another_root_includes_it() -> None:
    child = k.hp("c", routes=[HOME])
    bad = k.hp("bad", fqdn="", includes=[k.include("c")])
    dag = k.build_both(S1, child, bad)
    assert k.hp_status(dag, "default", "c")[0] == "orphaned"
    dag = k.build_both(S1, child, bad, k.hp("good", fqdn="g.com", includes=[k.include("c")]))
    assert k.hp_status(dag, "default", "c") == ("valid", [], [])


def test_provenance_is_the_include_chain() -> None:
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", includes=[k.include("c", "m")]),
                       k.hp("c", "m", includes=[k.include("d")]),
                       k.hp("d", "m", routes=[k.hp_route(k.hp_svc("s1"))]),
                       k.service("s1", "m"))
    route = k.http_routes(dag, "a.com")["/"]
    assert route.provenance is not None and route.provenance.kind == "HTTPProxy"
    assert route.provenance.chain == (("default", "a"), ("m", "c"), ("m", "d"))


def test_wildcard_fqdn_routes_match_one_label() -> None:
    dag = k.build_both(S1, k.hp("a", fqdn="*.a.com", routes=[HOME]))
    (route,) = k.http_vhost(dag, "*.a.com").routes  # type: ignore[union-attr]
    assert route.headers == (HeaderMatch(":authority", "regex",
                                         r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.a\.com(:[0-9]+)?"),)


def test_tls_routes_redirect_on_port_80_except_permit_insecure() -> None:
    dag = k.build_both(S1, k.secret("tls"), k.hp("a", fqdn="a.com", tls={"secretName": "tls"},
                                                 routes=[HOME, k.hp_route(
                                                     k.hp_svc("s1"), permitInsecure=True,
                                                     conditions=[{"prefix": "/open"}])]))
    http = k.http_routes(dag, "a.com")
    assert (http["/"].https_redirect, http["/open"].https_redirect) == (True, False)
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.secret is not None
    assert (svh.min_tls_version, svh.max_tls_version) == ("1.2", "1.3")
    assert not any(r.https_redirect for r in svh.routes)


def test_delegated_secret_needs_a_v1_delegation() -> None:
    objs = [S1, k.secret("w", "secret"),
            k.hp("a", fqdn="a.com", tls={"secretName": "secret/w"}, routes=[HOME])]
    dag = k.build_both(*objs)
    assert k.hp_status(dag, "default", "a")[1] == [
        ("TLSError", "DelegationNotPermitted",
         'Spec.VirtualHost.TLS Secret "secret/w" certificate delegation not permitted')]
    assert k.http_vhost(dag, "a.com") is None
    dag = k.build_both(*objs, k.hp_delegation("d", "secret", ("w", ["*"])))
    assert k.hp_status(dag, "default", "a") == ("valid", [], [])
    assert k.https_vhost(dag, "a.com") is not None


def test_fallback_certificate() -> None:
    settings = BuilderSettings(fallback_certificate=("default", "fb"))
    tls = {"secretName": "tls", "enableFallbackCertificate": True}
    objs = [S1, k.secret("tls"), k.secret("fb"), k.secret("tls", "o"),
            k.hp("a", fqdn="a.com", tls=tls, routes=[HOME]),
            k.hp("b", "o", fqdn="b.com", tls=tls, routes=[k.hp_route(k.hp_svc("s1"))])]
    dag = k.build_both(*objs, settings=settings)
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.fallback_certificate
    assert dag.fallback_secret is not None and dag.fallback_secret.name == "fb"
    assert k.hp_status(dag, "o", "b")[1] == [
        ("TLSError", "FallbackNotDelegated",
         'Spec.VirtualHost.TLS Secret "default/fb" is not configured for certificate '
         "delegation")]


def test_passthrough_tcpproxy_with_include() -> None:
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", tls={"passthrough": True},
                                tcpproxy={"include": {"name": "t"}}, routes=[HOME]),
                       k.hp("t", tcpproxy={"services": [k.hp_svc("s1", 80)]}))
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.secret is None and svh.tcp_proxy is not None
    assert [c.service.name for c in svh.tcp_proxy.clusters] == ["s1"]
    assert k.hp_status(dag, "default", "t") == ("valid", [], [])
    assert k.http_routes(dag, "a.com")["/"].https_redirect


def test_ingressroute_loses_an_fqdn_an_httpproxy_names() -> None:
    objs = [S1, k.ir("r", fqdn="a.com", routes=[k.route("/", k.svc("s1", 80))]),
            k.hp("p", fqdn="a.com", routes=[k.hp_route(k.hp_svc("s1"),
                                                       conditions=[{"prefix": "/p"}])])]
    dag = k.build_both(*objs)
    assert k.statuses(dag)["default/r"] == (
        "invalid", 'fqdn "a.com" is used by HTTPProxy default/p')
    assert list(k.http_routes(dag, "a.com")) == ["/p"]


def test_ingress_merges_into_an_httpproxy_vhost() -> None:
    ing = k.ingress("i", rules=[k.rule("a.com", k.path("/ing", k.backend("s1", 80)))])
    dag = k.build_both(S1, ing, k.hp("p", fqdn="a.com", routes=[HOME]))
    routes = k.http_routes(dag, "a.com")
    assert sorted(routes) == ["/", "/ing"]
    assert routes["/ing"].provenance is not None
    assert routes["/ing"].provenance.chain == (("default", "i"),)


def test_bad_gateway_route_has_the_include_conditions_only() -> None:
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", includes=[
        k.include("c", conditions=[{"prefix": "/c"}])]),
        k.hp("c", includes=[k.include("x", conditions=[{"prefix": "/x"}])]))
    assert k.http_routes(dag, "a.com")["/x"].direct_response == DirectResponse(502)


@pytest.mark.provokes_bug
def test_a_root_whose_processing_raises_is_quarantined(monkeypatch: pytest.MonkeyPatch) -> None:
    from controller.dag import httpproxy

    def boom(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(httpproxy, "_process_root", boom)
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", routes=[HOME]),
                       k.hp("b", fqdn="b.com", routes=[HOME]))
    assert k.hp_status(dag, "default", "a")[:2] == ("invalid", [
        ("BuildError", "Quarantined",
         "internal error in build (RuntimeError); the object is quarantined")])
    assert dag.http == ()


def test_upstream_validation_of_a_tls_service() -> None:
    ca = k.secret("ca", "o", type="Opaque", cert=None, key=None, ca=k.tls_pair(1)[0])
    svc = k.hp_svc("s1", protocol="tls", validation={"caSecret": "o/ca", "subjectName": "s"})
    objs = [S1, ca, k.hp("a", fqdn="a.com", routes=[k.hp_route(svc)])]
    dag = k.build_both(*objs)
    assert k.hp_status(dag, "default", "a")[1] == [
        ("TLSError", "CACertificateNotDelegated",
         'service.UpstreamValidation.CACertificate Secret "o/ca" is not configured for '
         "certificate delegation")]
    dag = k.build_both(*objs, k.hp_delegation("d", "o", ("ca", ["default"])))
    (cluster,) = k.http_routes(dag, "a.com")["/"].clusters
    assert cluster.validation is not None and cluster.validation.subject_name == "s"
    assert cluster.service.protocol.value == "tls"


def test_removing_a_v1beta1_delegation_keeps_the_v1_one_of_the_same_name() -> None:
    """A migration keeps `certs/d` in both API groups for a while; deleting the old one must
    not revoke what the new one grants (they were one store key once)."""
    from controller.dag.incremental import IncrementalBuilder
    from controller.dag.store import ObjectStore

    old = k.delegation("d", "secret", ("w", ["other"]))
    new = k.hp_delegation("d", "secret", ("w", ["*"]))
    objs = [S1, k.secret("w", "secret"), old, new,
            k.hp("a", fqdn="a.com", tls={"secretName": "secret/w"}, routes=[HOME])]
    assert k.hp_status(k.build_both(*objs), "default", "a") == ("valid", [], [])
    settings = BuilderSettings()
    store = ObjectStore(settings)
    incremental = IncrementalBuilder(store, settings)
    for obj in objs:
        store.upsert(obj)
    incremental.build()
    assert store.remove("TLSCertificateDelegation", "secret", "d")
    incremental.touch("TLSCertificateDelegation", "secret", "d")
    dag = incremental.build()[0]
    assert dag == k.build_both(*[o for o in objs if o is not old])
    assert k.hp_status(dag, "default", "a") == ("valid", [], [])
    assert k.https_vhost(dag, "a.com") is not None
