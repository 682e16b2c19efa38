"""Typed views of projectcontour.io/v1 HTTPProxy objects (Contour v1.33's shape); the
views of conditions and policies are in httpproxy_parts.py.

`httpproxy_view` takes a raw object and never raises: a field of the wrong type, or missing,
is treated as absent (the validation boundary has normally refused such objects already).
A view keeps "absent" apart from "empty" where v1.33 does (`Optional[...]` fields are None
when the key is missing), and defaults an include's namespace to the holder's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller.k8s import extension_views as ext
from controller.k8s import httpproxy_auth as auth
from controller.k8s import httpproxy_parts as parts
from controller.k8s.extension_views import AuthorizationView, AuthPolicyView, GlobalRateLimitView
from controller.k8s.httpproxy_auth import (
    ClientValidationView,
    CookieRewriteView,
    JWTPolicyView,
    JWTProviderView,
)
from controller.k8s.httpproxy_parts import (
    CORSPolicyView,
    DirectResponseView,
    HeadersPolicyView,
    HealthCheckPolicyView,
    HPServiceView,
    IPPolicies,
    LoadBalancerPolicyView,
    LocalRateLimitView,
    MatchConditionView,
    RedirectPolicyView,
    RetryPolicyView,
    TimeoutPolicyView,
)
from controller.k8s.objects import Key, as_bool, as_dict, as_list, as_str, key_of
from controller.records import record

# -- routes, includes, tcpproxy, virtual host ---------------------------------------------------


@record
class HPRouteView:
    conditions: tuple[MatchConditionView, ...] = ()
    services: tuple[HPServiceView, ...] = ()
    websockets: bool = False
    permit_insecure: bool = False
    timeout: TimeoutPolicyView | None = None
    retry: RetryPolicyView | None = None
    health_check: HealthCheckPolicyView | None = None
    load_balancer: LoadBalancerPolicyView | None = None
    replace_prefix: tuple[tuple[str, str], ...] = ()
    request_headers: HeadersPolicyView | None = None
    response_headers: HeadersPolicyView | None = None
    redirect: RedirectPolicyView | None = None
    direct_response: DirectResponseView | None = None
    internal_redirect: bool = False
    ip: IPPolicies = IPPolicies()
    rate_limit: LocalRateLimitView | None = None
    jwt: JWTPolicyView | None = None
    cookie_rewrites: tuple[CookieRewriteView, ...] = ()
    global_rate_limit: GlobalRateLimitView | None = None
    auth_policy: AuthPolicyView | None = None


@record
class IncludeView:
    key: Key  # namespace defaulted to the includer's
    conditions: tuple[MatchConditionView, ...] = ()


@dataclass(frozen=True, slots=True)
class HPTCPProxyView:
    services: tuple[HPServiceView, ...] = ()
    include: Key | None = None
    strategy: str = ""


@dataclass(frozen=True, slots=True)
class HPTLSView:
    secret_name: str = ""
    min_version: str = ""
    max_version: str = ""
    passthrough: bool = False
    fallback: bool = False
    client_validation: ClientValidationView | None = None


@record
class HPVirtualHostView:
    fqdn: str
    tls: HPTLSView | None = None
    cors: CORSPolicyView | None = None
    ip: IPPolicies = IPPolicies()
    rate_limit: LocalRateLimitView | None = None
    jwt_providers: tuple[JWTProviderView, ...] = ()
    global_rate_limit: GlobalRateLimitView | None = None
    authorization: AuthorizationView | None = None


@record
class HTTPProxyView:
    namespace: str
    name: str
    vhost: HPVirtualHostView | None = None
    routes: tuple[HPRouteView, ...] = ()
    includes: tuple[IncludeView, ...] = ()
    tcpproxy: HPTCPProxyView | None = None
    unsupported: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    """(protective, ignored) paths of v1.33 fields present that are not translated yet
    (`unsupported_paths`)."""

    key: Key = field(init=False, repr=False, compare=False)
    """(namespace, name), made once: the builders key their indexes, results and statuses
    by it (memory: as a property it made a tuple per use, and 40k of them were kept at 10k
    HTTPProxies)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.namespace, self.name))

    @property
    def is_root(self) -> bool:
        return self.vhost is not None

    @property
    def fqdn(self) -> str:
        return self.vhost.fqdn if self.vhost is not None else ""


# -- parsing ----------------------------------------------------------------------------------

PROTECTIVE_VHOST: dict[str, str] = {}
"""Virtual-host policies that protect it and are not translated yet: a root using them is
refused rather than served unprotected (none left since issue 8)."""
PROTECTIVE_TLS: dict[str, str] = {}
PROTECTIVE_ROUTE: dict[str, str] = {}
IGNORED_ROUTE: dict[str, str] = {}


_VHOST_KEYS = frozenset({*PROTECTIVE_VHOST, "tls"})
_ROUTE_KEYS = frozenset({*PROTECTIVE_ROUTE, *IGNORED_ROUTE})
_NONE: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def unsupported_paths(spec: dict[str, object]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(protective, ignored): the Spec paths, in v1.33's Go field style, of the fields this
    controller does not translate yet; protective ones guard the virtual host (PROTECTIVE_*),
    the others (cookie rewrites) do not. Each sorted.
    perf: a key-set intersection first, so the common object costs ~1 µs, not ~5."""
    vhost, guard, ignored = as_dict(spec.get("virtualhost")), [], []
    if vhost.keys() & _VHOST_KEYS:
        guard += [f"Spec.VirtualHost.{go}" for f, go in PROTECTIVE_VHOST.items() if f in vhost]
        guard += [f"Spec.VirtualHost.TLS.{go}" for f, go in PROTECTIVE_TLS.items()
                  if f in as_dict(vhost.get("tls"))]
    for i, raw in enumerate(as_list(spec.get("routes"))):
        route = as_dict(raw)
        if not route.keys() & _ROUTE_KEYS:
            continue
        where = f"Spec.Routes[{i}]"
        guard += [f"{where}.{go}" for f, go in PROTECTIVE_ROUTE.items() if f in route]
        ignored += [f"{where}.{go}" for f, go in IGNORED_ROUTE.items() if f in route]
    if not guard and not ignored:
        return _NONE
    return tuple(sorted(guard)), tuple(sorted(ignored))


def _global_rate_limit(raw: object) -> GlobalRateLimitView | None:
    return ext.global_rate_limit(as_dict(raw).get("global"))


def _is_dict(raw: object) -> bool:
    return isinstance(raw, dict)


_ROUTE_FIELDS: dict[str, tuple[tuple[str, Callable[[Any], object]], ...]] = {
    "conditions": (("conditions", parts.conditions),),
    "services": (("services", parts.services),),
    "enableWebsockets": (("websockets", as_bool),),
    "permitInsecure": (("permit_insecure", as_bool),),
    "timeoutPolicy": (("timeout", parts.timeout),),
    "retryPolicy": (("retry", parts.retry),),
    "healthCheckPolicy": (("health_check", parts.health_check),),
    "loadBalancerPolicy": (("load_balancer", parts.load_balancer),),
    "pathRewritePolicy": (("replace_prefix", parts.replace_prefix),),
    "requestHeadersPolicy": (("request_headers", parts.headers_policy),),
    "responseHeadersPolicy": (("response_headers", parts.headers_policy),),
    "requestRedirectPolicy": (("redirect", parts.redirect),),
    "directResponsePolicy": (("direct_response", parts.direct_response),),
    "internalRedirectPolicy": (("internal_redirect", _is_dict),),
    "rateLimitPolicy": (("rate_limit", parts.local_rate_limit),
                        ("global_rate_limit", _global_rate_limit)),
    "jwtVerificationPolicy": (("jwt", auth.jwt_policy),),
    "cookieRewritePolicies": (("cookie_rewrites", auth.cookie_rewrites),),
    "authPolicy": (("auth_policy", ext.auth_policy),),
}
"""A route's key → the HPRouteView fields parsed from it (`ip` reads two keys: _IP_KEYS).

perf: only the keys a route has are parsed; the others keep HPRouteView's defaults, which
are what each parser makes of an absent key (tests/controller/k8s checks it). Calling all
twenty parsers on every route was ~7 % of a 10k HTTPProxy cold start (py-spy)."""
_IP_KEYS = frozenset({"ipAllowPolicy", "ipDenyPolicy"})


def _route(raw: object) -> HPRouteView:
    d = as_dict(raw)
    fields = {name: parse(d[key]) for key in d.keys() & _ROUTE_FIELDS.keys()
              for name, parse in _ROUTE_FIELDS[key]}
    if d.keys() & _IP_KEYS:
        fields["ip"] = parts.ip(d)
    return HPRouteView(**fields)  # type: ignore[arg-type]


def _ref(raw: object, namespace: str) -> Key | None:
    if not isinstance(raw, dict):
        return None
    return (as_str(raw.get("namespace")) or namespace, as_str(raw.get("name")))


def _tcpproxy(raw: object, namespace: str) -> HPTCPProxyView | None:
    if not isinstance(raw, dict):
        return None
    # v1 prefers the singular `include` over the deprecated plural `includes` (#2218)
    include = _ref(raw.get("include"), namespace) or _ref(raw.get("includes"), namespace)
    strategy = as_str(as_dict(raw.get("loadBalancerPolicy")).get("strategy"))
    return HPTCPProxyView(parts.services(raw.get("services")), include, strategy)


def _tls(raw: object) -> HPTLSView | None:
    if not isinstance(raw, dict):
        return None
    return HPTLSView(
        secret_name=as_str(raw.get("secretName")),
        min_version=as_str(raw.get("minimumProtocolVersion")),
        max_version=as_str(raw.get("maximumProtocolVersion")),
        passthrough=as_bool(raw.get("passthrough")),
        fallback=as_bool(raw.get("enableFallbackCertificate")),
        client_validation=auth.client_validation(raw.get("clientValidation")),
    )


def _vhost(raw: object, namespace: str) -> HPVirtualHostView | None:
    if not isinstance(raw, dict):
        return None
    return HPVirtualHostView(
        fqdn=as_str(raw.get("fqdn")),
        tls=_tls(raw.get("tls")),
        cors=parts.cors(raw.get("corsPolicy")),
        ip=parts.ip(raw),
        rate_limit=parts.local_rate_limit(raw.get("rateLimitPolicy")),
        jwt_providers=auth.jwt_providers(raw.get("jwtProviders")),
        global_rate_limit=ext.global_rate_limit(as_dict(raw.get("rateLimitPolicy")).get("global")),
        authorization=ext.authorization(raw.get("authorization"), namespace),
    )


def httpproxy_view(obj: object) -> HTTPProxyView:
    namespace, name = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    includes = tuple(
        IncludeView(
            (as_str(as_dict(i).get("namespace")) or namespace, as_str(as_dict(i).get("name"))),
            parts.conditions(as_dict(i).get("conditions")),
        )
        for i in as_list(spec.get("includes"))
    )
    return HTTPProxyView(
        namespace=namespace,
        name=name,
        vhost=_vhost(spec.get("virtualhost"), namespace),
        routes=tuple(_route(r) for r in as_list(spec.get("routes"))),
        includes=includes,
        tcpproxy=_tcpproxy(spec.get("tcpproxy"), namespace),
        unsupported=unsupported_paths(spec),
    )
