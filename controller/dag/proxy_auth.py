"""HTTPProxy client authentication (v1.33 computeHTTPProxy's TLS and JWT parts):
`tls.clientValidation` → ClientValidation, `jwtProviders` → JWTProviders, the routes'
`jwtVerificationPolicy`, and `cookieRewritePolicies` (policy.go cookieRewritePolicies).

Each checker records v1.33's condition (type, reason and message verbatim) and returns
False to stop the root; the converters raise PolicyError, framed by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, urlsplit

from controller.dag.model import Provenance, Route
from controller.dag.model_auth import (
    FORWARD_DETAILS,
    ClientValidation,
    CookieRewrite,
    JWKSCluster,
    JWTProvider,
)
from controller.dag.policy import PolicyError, go_duration
from controller.dag.proxyreads import ProxyReads, ProxyResult
from controller.dag.proxystatus import ProxyConditions
from controller.dag.secrets import split_secret
from controller.dag.status import go_quote
from controller.k8s.httpproxy_auth import (
    ClientValidationView,
    CookieRewriteView,
    JWKSValidationView,
    JWTPolicyView,
    JWTProviderView,
)
from controller.k8s.httpproxy_views import HTTPProxyView
from controller.k8s.objects import Key

JWT_ERROR = "JWTVerificationError"
JWT_NEEDS_TLS = ("Spec.VirtualHost.JWTProviders can only be defined for root HTTPProxies that "
                 "terminate TLS")
TLS_FALLBACK_JWT = "Spec.Virtualhost.TLS fallback & JWT providers are incompatible"
_JWKS = "Spec.VirtualHost.JWTProviders.RemoteJWKS"
_DNS_FAMILIES = ("auto", "v4", "v6", "all")
_NOT_DELEGATED = "certificate delegation not permitted"


def _name(key: Key) -> str:
    return go_quote(f"{key[0]}/{key[1]}")


# -- tls.clientValidation ------------------------------------------------------------------


def client_validation(root: HTTPProxyView, view: ClientValidationView, reads: ProxyReads,
                      result: ProxyResult) -> bool:
    """v1.33's DownstreamValidation: sets `result.client_validation`; False (with the
    error) when a CA or CRL Secret is not delegated or not usable. Project rule: no CA
    without skipClientCertValidation refuses the root (v1.33 records the error but builds
    a validation context Envoy cannot verify against)."""
    cond = result.cond(root.key)
    ca, crl, keys = b"", b"", []
    if view.ca_secret:
        key = split_secret(view.ca_secret, root.namespace)
        found = _lookup(key, root.namespace, reads, reads.ca_certificate, "ca.crt")
        if not isinstance(found, bytes):
            return _unusable(found, "CA", view.ca_secret, key, cond)
        ca, keys = found, [key]
    elif not view.skip_validation:
        cond.error("TLSError", "ClientValidationInvalid",
                   "Spec.VirtualHost.TLS client validation is invalid: CA Secret must be "
                   "specified")
        return False
    if view.crl_secret:
        key = split_secret(view.crl_secret, root.namespace)
        found = _lookup(key, root.namespace, reads, reads.crl, "crl.pem")
        if not isinstance(found, bytes):
            return _unusable(found, "CRL", view.crl_secret, key, cond)
        crl, keys = found, [*keys, key]
    result.client_validation = ClientValidation(
        ca=ca, crl=crl, crl_only_leaf=bool(crl) and view.crl_only_leaf,
        skip_verify=view.skip_validation, optional=view.optional,
        forward=_details(view.forward) if view.forward else None,
        secrets=tuple(keys), provenance=Provenance("HTTPProxy", (root.key,)))
    return True


def _details(view: object) -> tuple[str, ...]:
    return tuple(f for f in FORWARD_DETAILS if getattr(view, f))


def _lookup(key: Key, namespace: str, reads: ProxyReads, read: Callable[[Key], bytes],
            data_key: str) -> bytes | str:
    """v1.33 LookupCASecret / LookupCRLSecret: the bytes, or the error text (delegation is
    checked first)."""
    if not reads.tls_secret(key, namespace)[1]:
        return _NOT_DELEGATED
    missing = reads.missing_secret(key)
    if missing:
        return missing
    found = read(key)
    return found if found else f"empty {go_quote(data_key)} key"


def _unusable(found: str, what: str, ref: str, key: Key, cond: ProxyConditions) -> bool:
    """Records why a CA or CRL Secret cannot be used; False (the root stops)."""
    if found == _NOT_DELEGATED:
        cond.error("TLSError", "DelegationNotPermitted",
                   f"Spec.VirtualHost.TLS {what} Secret {go_quote(ref)} is invalid: {found}")
    else:
        cond.error("TLSError", "ClientValidationInvalid",
                   "Spec.VirtualHost.TLS client validation is invalid: invalid "
                   f"{what} Secret {_name(key)}: {found}")
    return False


# -- jwtProviders --------------------------------------------------------------------------


def jwt_providers(root: HTTPProxyView, reads: ProxyReads, result: ProxyResult) -> bool:
    """v1.33's JWTProviders loop: sets `result.jwt_providers` and `result.default_jwt`;
    False after the first provider's error."""
    assert root.vhost is not None
    cond = result.cond(root.key)
    names: set[str] = set()
    providers = []
    for view in root.vhost.jwt_providers:
        if view.name in names:
            cond.error(JWT_ERROR, "DuplicateProviderName",
                       f"Spec.VirtualHost.JWTProviders is invalid: duplicate name {view.name}")
            return False
        names.add(view.name)
        if view.default:
            if result.default_jwt:
                cond.error(JWT_ERROR, "MultipleDefaultProvidersSpecified",
                           "Spec.VirtualHost.JWTProviders is invalid: at most one provider "
                           "can be set as the default")
                return False
            result.default_jwt = view.name
        provider = _provider(root, view, reads, cond)
        if provider is None:
            return False
        providers.append(provider)
    result.jwt_providers = tuple(providers)
    return True


def _provider(root: HTTPProxyView, view: JWTProviderView, reads: ProxyReads,
              cond: ProxyConditions) -> JWTProvider | None:
    url = _url(view.uri, cond)
    if url is None:
        return None
    ca, subject = b"", ""
    if view.validation is not None:
        if url.scheme == "http":
            cond.error(JWT_ERROR, "RemoteJWKSUpstreamValidationInvalid",
                       f"{_JWKS}.UpstreamValidation must not be specified when URI scheme is "
                       "http.")
            return None
        found = _jwks_validation(root, view.validation, reads, cond)
        if found is None:
            return None
        ca, subject = found
    try:
        timeout = go_duration(view.timeout) if view.timeout else 1.0
    except PolicyError as err:
        cond.error(JWT_ERROR, "RemoteJWKSTimeoutInvalid", f"{_JWKS}.Timeout is invalid: {err}")
        return None
    try:
        cache = go_duration(view.cache_duration) if view.cache_duration else None
    except PolicyError as err:
        cond.error(JWT_ERROR, "RemoteJWKSCacheDurationInvalid",
                   f"{_JWKS}.CacheDuration is invalid: {err}")
        return None
    family = view.dns_lookup_family
    if family and family not in _DNS_FAMILIES:
        cond.error(JWT_ERROR, "RemoteJWKSDNSLookupFamilyInvalid",
                   f"{_JWKS}.DNSLookupFamily has an invalid value {go_quote(family)}, must be "
                   "auto, all, v4 or v6")
        return None
    port = url.port or (80 if url.scheme == "http" else 443)
    cluster = JWKSCluster(url.hostname or "", url.scheme, port, family, ca, subject)
    return JWTProvider(view.name, view.uri, cluster, view.issuer, view.audiences, timeout,
                       cache, view.forward, Provenance("HTTPProxy", (root.key,)))


def _url(uri: str, cond: ProxyConditions) -> SplitResult | None:
    """The parsed URI (http or https, a valid port), or None after the error."""
    try:
        url = urlsplit(uri)
        url.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as err:
        cond.error(JWT_ERROR, "RemoteJWKSURIInvalid",
                   f"{_JWKS}.URI is invalid: parse {go_quote(uri)}: {err}")
        return None
    if url.scheme not in ("http", "https"):
        cond.error(JWT_ERROR, "RemoteJWKSSchemeInvalid",
                   f"{_JWKS}.URI has invalid scheme {go_quote(url.scheme)}, must be http or "
                   "https")
        return None
    return url


def _jwks_validation(root: HTTPProxyView, view: JWKSValidationView, reads: ProxyReads,
                     cond: ProxyConditions) -> tuple[bytes, str] | None:
    """v1.33 LookupUpstreamValidation for the JWKS server: (CA, subject name)."""
    key = split_secret(view.ca_secret, root.namespace)
    found = _lookup(key, root.namespace, reads, reads.ca_certificate, "ca.crt")
    if found == _NOT_DELEGATED:
        cond.error(JWT_ERROR, "RemoteJWKSCACertificateNotDelegated",
                   f"{_JWKS}.UpstreamValidation.CACertificate Secret {_name(key)} is not "
                   "configured for certificate delegation")
        return None
    problem = f"invalid CA Secret {_name(key)}: {found}" if isinstance(found, str) else ""
    if not problem and not view.subject_name:
        problem = "missing subject alternative name"
    if problem or isinstance(found, str):
        cond.error(JWT_ERROR, "RemoteJWKSUpstreamValidationInvalid",
                   f"{_JWKS}.UpstreamValidation is invalid: {problem}")
        return None
    return found, view.subject_name


# -- routes --------------------------------------------------------------------------------


def route_provider(view: JWTPolicyView | None, default: str) -> str:
    """v1.33: the required provider, none when disabled, else the vhost's default."""
    if view is not None and view.require and view.disabled:
        raise PolicyError("route's JWT verification policy cannot specify both require and "
                          "disabled")
    if view is not None and view.require:
        return view.require
    return "" if view is not None and view.disabled else default


def routes_providers_defined(routes: Iterable[Route], providers: Iterable[JWTProvider],
                             cond: ProxyConditions) -> bool:
    """v1.33's last check of a secure vhost: every route's provider must exist."""
    names = {p.name for p in providers}
    for route in routes:
        if route.jwt_provider and route.jwt_provider not in names:
            cond.error(JWT_ERROR, "JWTProviderNotDefined",
                       f"Route references an undefined JWT provider {go_quote(route.jwt_provider)}")
            return False
    return True


# -- cookieRewritePolicies -----------------------------------------------------------------


def cookie_rewrites(views: tuple[CookieRewriteView, ...]) -> tuple[CookieRewrite, ...]:
    """v1.33 cookieRewritePolicies: one rule per cookie name, each rewriting something;
    kept in spec order (later rules of the route's services merge over the route's)."""
    seen: set[str] = set()
    out = []
    for v in views:
        if v.name in seen:
            raise PolicyError(f"duplicate cookie rewrite rule for cookie {go_quote(v.name)}")
        seen.add(v.name)
        if v.path is None and v.domain is None and v.secure is None and v.same_site is None:
            raise PolicyError(f"no attributes rewritten for cookie {go_quote(v.name)}")
        out.append(CookieRewrite(v.name, v.path, v.domain, v.secure, v.same_site))
    return tuple(out)
