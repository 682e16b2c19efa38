"""HTTPProxy jwtProviders, tls.clientValidation and cookieRewritePolicies through both
builders: v1.33's statuses verbatim and the DAG values they produce."""

from __future__ import annotations

from typing import Any

import dagkit as k
import pytest

from controller.dag.model import CookieRewrite

Obj = dict[str, Any]
S1 = k.service("s1")
HOME = k.hp_route(k.hp_svc("s1"))
CA = k.secret("ca", type="Opaque", cert=None, key=None, ca=k.tls_pair(1)[0])
TLS = k.secret("tls")
JWKS = {"uri": "https://jwks.example.com/keys"}


def _provider(name: str = "p", **extra: Any) -> Obj:
    return {"name": name, "remoteJWKS": {**JWKS, **extra.pop("remote", {})}, **extra}


def _root(*, tls: Obj | None = None, routes: list[Obj] | None = None, **vhost: Any) -> Obj:
    return k.hp("a", fqdn="a.com", routes=routes or [HOME],
                vhost={"tls": {"secretName": "tls", **(tls or {})}, **vhost})


def _jwt(*providers: Obj, routes: list[Obj] | None = None) -> Obj:
    return _root(routes=routes, jwtProviders=list(providers))


JWT = "JWTVerificationError"
CASES: list[tuple[str, list[Obj], list[tuple[str, str, str]]]] = [
    ("jwt without tls", [S1, k.hp("a", fqdn="a.com", routes=[HOME],
                                  vhost={"jwtProviders": [_provider()]})],
     [(JWT, "JWTVerificationNotPermitted", "Spec.VirtualHost.JWTProviders can only be defined "
       "for root HTTPProxies that terminate TLS")]),
    ("duplicate provider", [S1, TLS, _jwt(_provider(), _provider())],
     [(JWT, "DuplicateProviderName", "Spec.VirtualHost.JWTProviders is invalid: duplicate "
       "name p")]),
    ("two defaults", [S1, TLS, _jwt(_provider(default=True), _provider("q", default=True))],
     [(JWT, "MultipleDefaultProvidersSpecified", "Spec.VirtualHost.JWTProviders is invalid: "
       "at most one provider can be set as the default")]),
    ("bad scheme", [S1, TLS, _jwt(_provider(remote={"uri": "ftp://x/keys"}))],
     [(JWT, "RemoteJWKSSchemeInvalid", 'Spec.VirtualHost.JWTProviders.RemoteJWKS.URI has '
       'invalid scheme "ftp", must be http or https')]),
    ("validation over http", [S1, TLS, CA, _jwt(_provider(remote={
        "uri": "http://x/keys", "validation": {"caSecret": "ca", "subjectName": "x"}}))],
     [(JWT, "RemoteJWKSUpstreamValidationInvalid", "Spec.VirtualHost.JWTProviders.RemoteJWKS."
       "UpstreamValidation must not be specified when URI scheme is http.")]),
    ("jwks ca not delegated", [S1, TLS, _jwt(_provider(remote={
        "validation": {"caSecret": "o/ca", "subjectName": "x"}}))],
     [(JWT, "RemoteJWKSCACertificateNotDelegated", "Spec.VirtualHost.JWTProviders.RemoteJWKS."
       'UpstreamValidation.CACertificate Secret "o/ca" is not configured for certificate '
       "delegation")]),
    ("jwks ca missing", [S1, TLS, _jwt(_provider(remote={
        "validation": {"caSecret": "nope", "subjectName": "x"}}))],
     [(JWT, "RemoteJWKSUpstreamValidationInvalid", "Spec.VirtualHost.JWTProviders.RemoteJWKS."
       'UpstreamValidation is invalid: invalid CA Secret "default/nope": Secret not found')]),
    ("bad timeout", [S1, TLS, _jwt(_provider(remote={"timeout": "1x"}))],
     [(JWT, "RemoteJWKSTimeoutInvalid", "Spec.VirtualHost.JWTProviders.RemoteJWKS.Timeout is "
       'invalid: time: invalid duration "1x"')]),
    ("undefined provider", [S1, TLS, _jwt(_provider(), routes=[
        {**HOME, "jwtVerificationPolicy": {"require": "nope"}}])],
     [(JWT, "JWTProviderNotDefined", 'Route references an undefined JWT provider "nope"')]),
    ("require and disabled", [S1, TLS, _jwt(_provider(), routes=[
        {**HOME, "jwtVerificationPolicy": {"require": "p", "disabled": True}}])],
     [(JWT, "InvalidJWTVerificationPolicy", "route's JWT verification policy cannot specify "
       "both require and disabled")]),
    ("fallback and jwt", [S1, TLS, _root(tls={"enableFallbackCertificate": True},
                                         jwtProviders=[_provider()])],
     [("TLSError", "TLSIncompatibleFeatures", "Spec.Virtualhost.TLS fallback & JWT providers "
       "are incompatible")]),
    ("no ca", [S1, TLS, _root(tls={"clientValidation": {}})],
     [("TLSError", "ClientValidationInvalid", "Spec.VirtualHost.TLS client validation is "
       "invalid: CA Secret must be specified")]),
    ("ca missing", [S1, TLS, _root(tls={"clientValidation": {"caSecret": "nope"}})],
     [("TLSError", "ClientValidationInvalid", "Spec.VirtualHost.TLS client validation is "
       'invalid: invalid CA Secret "default/nope": Secret not found')]),
    ("ca not delegated", [S1, TLS, _root(tls={"clientValidation": {"caSecret": "o/ca"}})],
     [("TLSError", "DelegationNotPermitted", 'Spec.VirtualHost.TLS CA Secret "o/ca" is '
       "invalid: certificate delegation not permitted")]),
    ("ca without ca.crt", [S1, TLS, _root(tls={"clientValidation": {"caSecret": "tls"}})],
     [("TLSError", "ClientValidationInvalid", "Spec.VirtualHost.TLS client validation is "
       'invalid: invalid CA Secret "default/tls": empty "ca.crt" key')]),
    ("crl missing", [S1, TLS, CA, _root(tls={"clientValidation": {
        "caSecret": "ca", "crlSecret": "crl"}})],
     [("TLSError", "ClientValidationInvalid", "Spec.VirtualHost.TLS client validation is "
       'invalid: invalid CRL Secret "default/crl": Secret not found')]),
    ("duplicate cookie", [S1, TLS, _root(routes=[{**HOME, "cookieRewritePolicies": [
        {"name": "c", "secure": True}, {"name": "c", "secure": False}]}])],
     [("RouteError", "CookieRewritePoliciesInvalid", 'duplicate cookie rewrite rule for '
       'cookie "c" on route cookie rewrite rules')]),
    ("cookie rewriting nothing", [S1, TLS, _root(routes=[k.hp_route(k.hp_svc(
        "s1", cookieRewritePolicies=[{"name": "c"}]))])],
     [("RouteError", "CookieRewritePoliciesInvalid", 'no attributes rewritten for cookie "c" '
       "on service cookie rewrite rules")]),
]


@pytest.mark.parametrize(("objs", "errors"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_errors(objs: list[Obj], errors: list[tuple[str, str, str]]) -> None:
    dag = k.build_both(*objs)
    assert k.hp_status(dag, "default", "a")[:2] == ("invalid", errors)
    assert k.https_vhost(dag, "a.com") is None or not k.https_vhost(dag, "a.com").routes


def test_jwt_providers_and_route_requirements() -> None:
    routes = [HOME, k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/open"}],
                               jwtVerificationPolicy={"disabled": True}),
              k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/q"}],
                         jwtVerificationPolicy={"require": "q"})]
    dag = k.build_both(S1, TLS, _jwt(_provider(default=True, remote={"timeout": "3s",
                                                                      "cacheDuration": "1m"}),
                                     _provider("q", remote={"uri": "http://k:81/j"}),
                                     routes=routes))
    assert k.hp_status(dag, "default", "a")[:2] == ("valid", [])
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None
    p, q = svh.jwt_providers
    assert (p.name, p.timeout, p.cache_duration, p.cluster.name, p.cluster.port) == (
        "p", 3.0, 60.0, "dnsname/https/jwks.example.com", 443)
    assert (q.cluster.name, q.cluster.port, q.timeout) == ("dnsname/http/k", 81, 1.0)
    assert {r.match: r.jwt_provider for r in svh.routes} == {"/": "p", "/open": "", "/q": "q"}
    # port 80 redirects; no jwt_authn there, so no route names a provider
    assert {r.jwt_provider for r in k.http_vhost(dag, "a.com").routes} == {""}


def test_client_validation_with_delegated_ca_and_forwarding() -> None:
    cv = {"caSecret": "o/ca", "optionalClientCertificate": True,
          "forwardClientCertificate": {"subject": True, "uri": True}}
    ca = k.secret("ca", "o", type="Opaque", cert=None, key=None, ca=k.tls_pair(2)[0])
    dag = k.build_both(S1, TLS, ca, k.hp_delegation("d", "o", ("ca", ["default"])),
                       _root(tls={"clientValidation": cv}))
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.client_validation is not None
    got = svh.client_validation
    assert got.ca == k.tls_pair(2)[0] and got.optional and not got.skip_verify
    assert got.forward == ("subject", "uri")
    assert got.secrets == (("o", "ca"),)


def test_skip_validation_needs_no_ca() -> None:
    dag = k.build_both(S1, TLS, _root(tls={"clientValidation": {
        "skipClientCertValidation": True}}))
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.client_validation is not None
    assert svh.client_validation.skip_verify and svh.client_validation.ca == b""


def test_cookie_rewrites_of_route_and_service() -> None:
    svc = k.hp_svc("s1", cookieRewritePolicies=[{"name": "b", "domainRewrite": {"value": "x.io"}}])
    route = k.hp_route(svc, cookieRewritePolicies=[{"name": "a", "sameSite": "Lax"}])
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", routes=[route]))
    (r,) = k.http_vhost(dag, "a.com").routes
    assert r.cookie_rewrites == (CookieRewrite("a", same_site="Lax"),)
    assert r.clusters[0].cookie_rewrites == (CookieRewrite("b", domain="x.io"),)
