"""ExtensionService clusters and statuses, HTTPProxy `authorization`/`authPolicy` and global
rate limits, through both builders (dagkit.build_both), with v1.33's status texts."""

from __future__ import annotations

from typing import Any

import pytest

from controller.config import BuilderSettings, RateLimitSettings
from controller.dag.model import (
    DAG,
    ExternalAuthorization,
    HeaderMatch,
    RateLimitEntry,
    Timeout,
)
from controller.k8s.objects import Obj
from tests.controller.dag import dagkit as k

ERR = "At least one error present, see Errors for details"
AUTHZ_SVC = k.service("authz", ports=((None, 9000),))
S1 = k.service("s1")
HOME = k.hp_route(k.hp_svc("s1"))


def ext(name: str = "authz", ns: str = "default", **spec: Any) -> Obj:
    body = {"services": [{"name": "authz", "port": 9000}], **spec}
    return {"apiVersion": "projectcontour.io/v1alpha1", "kind": "ExtensionService",
            "metadata": k.meta(name, ns), "spec": body}


def ext_status(dag: DAG, name: str = "authz", ns: str = "default") -> tuple[str, list, list]:
    s = next(s for s in dag.statuses
             if (s.kind, s.namespace, s.name) == ("ExtensionService", ns, name))
    c = s.conditions[0]
    return (c.status, [(e.type, e.reason, e.message) for e in c.errors],
            [(w.type, w.reason, w.message) for w in c.warnings])


def authz_root(auth: Obj | None = None, routes: list[Obj] | None = None, **tls: Any) -> Obj:
    auth = auth if auth is not None else {"extensionRef": {"name": "authz"}}
    return k.hp("a", fqdn="a.com", tls={"secretName": "tls", **tls}, routes=routes or [HOME],
                vhost={"authorization": auth})


# -- ExtensionService --------------------------------------------------------------------------

EXT_CASES = [
    ("valid", [AUTHZ_SVC, ext()], "True", [], []),
    ("missing service", [ext()], "False",
     [("ServiceError", "ServiceUnresolvedReference",
       'unresolved service "default/authz": service "default/authz" not found')], []),
    ("port not matched", [AUTHZ_SVC, ext(services=[{"name": "authz", "port": 1}])], "False",
     [("ServiceError", "ServiceUnresolvedReference",
       'unresolved service "default/authz": port "1" on service "default/authz" not matched')],
     []),
    ("external name", [k.service("authz", ports=((None, 9000),), external_name="x.com"), ext()],
     "False", [("ServiceError", "UnsupportedServiceType",
                'Service "default/authz" is of unsupported type "ExternalName".')], []),
    ("bad timeout", [AUTHZ_SVC, ext(timeoutPolicy={"response": "never"})], "False",
     [("SpecError", "TimeoutPolicyNotValid",
       'spec.timeoutPolicy failed to parse: error parsing response timeout: unable to parse '
       'timeout string "never": time: invalid duration "never"')], []),
    ("idle timeout and cookie balancing ignored",
     [AUTHZ_SVC, ext(timeoutPolicy={"idle": "5s"}, loadBalancerPolicy={"strategy": "Cookie"})],
     "True", [],
     [("SpecError", "IgnoredField", 'ignoring field ".Spec.LoadBalancerPolicy"; Cookie load '
       "balancer policy is not supported for ExtensionClusters"),
      ("SpecError", "IgnoredField", 'ignoring field ".Spec.TimeoutPolicy.Idle"; idle timeouts '
       "are not supported for ExtensionClusters")]),
    ("ca not delegated", [AUTHZ_SVC, ext(validation={"caSecret": "o/ca", "subjectName": "x"})],
     "False", [("TLSError", "CACertificateNotDelegated",
                'service.UpstreamValidation.CACertificate Secret "o/ca" is not configured for '
                "certificate delegation")], []),
    ("ca missing", [AUTHZ_SVC, ext(validation={"caSecret": "ca", "subjectName": "x"})],
     "False", [("SpecError", "TLSUpstreamValidation", 'TLS upstream validation policy error: '
                'invalid CA Secret "default/ca": Secret not found')], []),
    ("validation with h2c", [AUTHZ_SVC, k.secret("ca", type="Opaque", cert=None, key=None,
                                                 ca=k.tls_pair(1)[0]),
                             ext(protocol="h2c", validation={"caSecret": "ca",
                                                             "subjectName": "authz.local"})],
     "False", [("SpecError", "InconsistentProtocol",
                'upstream TLS validation not supported for "h2c" protocol')], []),
]


@pytest.mark.parametrize(("objs", "valid", "errors", "warnings"), [c[1:] for c in EXT_CASES],
                         ids=[c[0] for c in EXT_CASES])
def test_extension_status(objs: list[Obj], valid: str, errors: list, warnings: list) -> None:
    dag = k.build_both(*objs)
    assert ext_status(dag) == (valid, errors, warnings)
    assert [e.cluster_name for e in dag.extensions] == (["extension/default/authz"]
                                                       if valid == "True" else [])


def test_extension_cluster_fields() -> None:
    ca = k.secret("ca", type="Opaque", cert=None, key=None, ca=k.tls_pair(1)[0])
    dag = k.build_both(AUTHZ_SVC, ca, ext(
        timeoutPolicy={"response": "2s", "idleConnection": "30s"},
        loadBalancerPolicy={"strategy": "Random"},
        validation={"caSecret": "ca", "subjectName": "authz.local"},
        circuitBreakerPolicy={"maxRequests": 7}))
    (cluster,) = dag.extensions
    assert (cluster.protocol, cluster.strategy, cluster.response_timeout,
            cluster.idle_connection_timeout, cluster.subject_name, cluster.circuit_breakers,
            cluster.ca_secret, bool(cluster.ca_cert)) == (
        "h2", "Random", 2.0, 30.0, "authz.local", (0, 0, 7, 0), "ca", True)
    assert cluster.services == (("default/authz", 0),)
    assert cluster.provenance is not None and cluster.provenance.chain == (("default", "authz"),)


def test_extension_follows_its_service() -> None:
    """The incremental builder re-derives the cluster when its Service comes and goes."""
    dag = k.build_both(ext())
    assert dag.extensions == ()
    assert k.build_both(ext(), AUTHZ_SVC).extensions != ()


# -- authorization -----------------------------------------------------------------------------

AUTH_CASES = [
    ("extension not found", [S1, k.secret("tls"), authz_root()],
     [("AuthError", "ExtensionServiceNotFound", 'Spec.Virtualhost.Authorization.ServiceRef '
       'extension service "default/authz" not found')]),
    ("invalid extension is not found", [S1, k.secret("tls"), ext(), authz_root()],
     [("AuthError", "ExtensionServiceNotFound", 'Spec.Virtualhost.Authorization.ServiceRef '
       'extension service "default/authz" not found')]),
    ("bad api version", [S1, AUTHZ_SVC, k.secret("tls"), ext(), authz_root(
        {"extensionRef": {"name": "authz", "apiVersion": "projectcontour.io/v1"}})],
     [("AuthError", "AuthBadResourceVersion", 'Spec.Virtualhost.Authorization.extensionRef '
       'specifies an unsupported resource version "projectcontour.io/v1"')]),
    ("bad response timeout", [S1, AUTHZ_SVC, k.secret("tls"), ext(), authz_root(
        {"extensionRef": {"name": "authz"}, "responseTimeout": "soon"})],
     [("AuthError", "AuthResponseTimeoutInvalid", 'Spec.Virtualhost.Authorization.'
       'ResponseTimeout is invalid: unable to parse timeout string "soon": time: invalid '
       'duration "soon"')]),
    ("fallback certificate", [S1, AUTHZ_SVC, k.secret("tls"), ext(),
                              authz_root(enableFallbackCertificate=True)],
     [("TLSError", "TLSIncompatibleFeatures",
       "Spec.Virtualhost.TLS fallback & client authorization are incompatible")]),
]


@pytest.mark.parametrize(("objs", "errors"), [c[1:] for c in AUTH_CASES],
                         ids=[c[0] for c in AUTH_CASES])
def test_authorization_errors(objs: list[Obj], errors: list) -> None:
    dag = k.build_both(*objs)
    assert k.hp_status(dag, "default", "a")[:2] == ("invalid", errors)
    assert k.https_vhost(dag, "a.com") is None


def test_authorization_on_the_secure_vhost_and_routes() -> None:
    auth = {"extensionRef": {"name": "authz"}, "failOpen": True,
            "authPolicy": {"context": {"k": "vhost", "v": "1"}},
            "withRequestBody": {"allowPartialMessage": True}}
    routes = [HOME,
              k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/open"}],
                         authPolicy={"disabled": True}),
              k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/ctx"}],
                         authPolicy={"context": {"k": "route"}})]
    dag = k.build_both(S1, AUTHZ_SVC, k.secret("tls"), ext(timeoutPolicy={"response": "3s"}),
                       authz_root(auth, routes))
    assert k.hp_status(dag, "default", "a")[:2] == ("valid", [])
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.authorization == ExternalAuthorization(
        "extension/default/authz", "", True, 3.0, (1024, True, False))
    got = {r.match: (r.auth_disabled, r.auth_context) for r in svh.routes}
    assert got == {"/": (False, (("k", "vhost"), ("v", "1"))),
                   "/open": (True, (("k", "vhost"), ("v", "1"))),
                   "/ctx": (False, (("k", "route"), ("v", "1")))}


def test_authorization_timeout_and_disabled_vhost() -> None:
    auth = {"extensionRef": {"name": "authz", "namespace": "auth"}, "responseTimeout": "infinity",
            "authPolicy": {"disabled": True}}
    routes = [HOME, k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/on"}],
                               authPolicy={"disabled": False})]
    dag = k.build_both(S1, k.service("authz", "auth", ports=((None, 9000),)), k.secret("tls"),
                       ext(ns="auth"), authz_root(auth, routes))
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.authorization is not None
    assert svh.authorization.response_timeout == Timeout.INFINITE
    assert {r.match: r.auth_disabled for r in svh.routes} == {"/": True, "/on": False}


def test_authorization_without_a_name_adds_no_filter() -> None:
    dag = k.build_both(S1, k.secret("tls"), authz_root({"failOpen": True}))
    svh = k.https_vhost(dag, "a.com")
    assert svh is not None and svh.authorization is None
    assert all(not r.auth_disabled and not r.auth_context for r in svh.routes)


def test_authorizing_root_follows_its_extension_service() -> None:
    """An ExtensionService that turns valid later makes the root valid (incremental deps)."""
    dag = k.build_both(S1, k.secret("tls"), ext(), authz_root(), AUTHZ_SVC)
    assert k.hp_status(dag, "default", "a")[0] == "valid"


# -- global rate limits ------------------------------------------------------------------------

GENERIC = {"entries": [{"genericKey": {"key": "k", "value": "v"}}]}
HEADERS = {"entries": [{"requestHeader": {"headerName": "X-Id", "descriptorKey": "id"}},
                       {"remoteAddress": {}}]}
MATCH = {"entries": [{"requestHeaderValueMatch": {
    "headers": [{"name": "X-A", "exact": "b"}], "value": "ab"}}]}


def test_global_descriptors_on_vhost_and_route() -> None:
    routes = [k.hp_route(k.hp_svc("s1"), rateLimitPolicy={"global": {"descriptors": [HEADERS]}}),
              k.hp_route(k.hp_svc("s1"), conditions=[{"prefix": "/x"}],
                         rateLimitPolicy={"global": {"disabled": True}})]
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", routes=routes, vhost={
        "rateLimitPolicy": {"global": {"descriptors": [GENERIC, MATCH]}}}))
    vh = k.http_vhost(dag, "a.com")
    assert vh is not None and vh.global_rate_limits == (
        (RateLimitEntry("generic_key", key="k", value="v"),),
        (RateLimitEntry("header_value_match", value="ab", headers=(
            HeaderMatch("X-A", "exact", "b"),)),))
    got = {r.match: (r.global_rate_limits, r.ignore_vhost_rate_limits) for r in vh.routes}
    assert got == {"/": (((RateLimitEntry("request_header", key="id", header_name="X-Id"),
                           RateLimitEntry("remote_address")),), False),
                   "/x": ((), True)}


DEFAULT = RateLimitSettings(("rl", "ratelimit"), "contour",
                            default_global_policy={"descriptors": [GENERIC]})


@pytest.mark.parametrize(("vhost", "expected"), [
    ({}, ((RateLimitEntry("generic_key", key="k", value="v"),),)),
    ({"rateLimitPolicy": {"global": {"disabled": True}}}, ()),
    ({"rateLimitPolicy": {"global": {"descriptors": [HEADERS]}}},
     ((RateLimitEntry("request_header", key="id", header_name="X-Id"),
       RateLimitEntry("remote_address")),)),
], ids=["default applies", "opted out", "own policy wins"])
def test_default_global_policy(vhost: Obj, expected: tuple) -> None:
    settings = BuilderSettings(rate_limit_service=DEFAULT)
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", routes=[HOME], vhost=vhost),
                       settings=settings)
    vh = k.http_vhost(dag, "a.com")
    assert vh is not None and vh.global_rate_limits == expected


BAD_ENTRY = {"entries": [{"genericKey": {"key": "k"}, "remoteAddress": {}}]}


@pytest.mark.parametrize(("vhost", "route", "settings", "error"), [
    ({"rateLimitPolicy": {"global": {"descriptors": [BAD_ENTRY]}}}, {}, None,
     ("VirtualHostError", "RateLimitPolicyNotValid", "Spec.VirtualHost.RateLimitPolicy is "
      "invalid: rate limit descriptor entry must have exactly one field set")),
    ({}, {"rateLimitPolicy": {"global": {"descriptors": [BAD_ENTRY]}}}, None,
     ("RouteError", "RateLimitPolicyNotValid", "route.rateLimitPolicy is invalid: rate limit "
      "descriptor entry must have exactly one field set")),
    ({}, {}, RateLimitSettings(("rl", "r"), default_global_policy={"descriptors": [BAD_ENTRY]}),
     ("VirtualHostError", "RateLimitPolicyNotValid", "Default Global RateLimit Policy is "
      "invalid: rate limit descriptor entry must have exactly one field set")),
], ids=["vhost", "route", "default"])
def test_invalid_descriptor(vhost: Obj, route: Obj, settings: RateLimitSettings | None,
                            error: tuple) -> None:
    dag = k.build_both(S1, k.hp("a", fqdn="a.com", routes=[{**HOME, **route}], vhost=vhost),
                       settings=BuilderSettings(rate_limit_service=settings))
    assert k.hp_status(dag, "default", "a")[:2] == ("invalid", [error])
    assert k.http_vhost(dag, "a.com") is None


def test_rate_limit_service_takes_the_extension_timeout() -> None:
    settings = BuilderSettings(rate_limit_service=RateLimitSettings(("default", "authz"), "d"))
    assert k.build_both(S1, settings=settings).rate_limit_service.timeout is None  # type: ignore[union-attr]
    dag = k.build_both(AUTHZ_SVC, ext(timeoutPolicy={"response": "1s"}), settings=settings)
    assert dag.rate_limit_service is not None
    assert (dag.rate_limit_service.cluster_name, dag.rate_limit_service.timeout) == (
        "extension/default/authz", 1.0)
