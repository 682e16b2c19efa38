"""HTTPProxy roots (v1.33 computeHTTPProxy): duplicate fqdns, root checks, TLS, tcpproxy,
then the include walk (proxyroutes.py) and the virtual host's own policies.

Each root is processed on its own by `process_root`, which reads only the store (or a
recorder of its reads) and returns a `ProxyResult`; statuses are merged across roots by
proxystatus.merge, so the result does not depend on the order roots are processed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from controller import faults
from controller.config import BuilderSettings
from controller.dag import authz
from controller.dag import global_ratelimit as grl
from controller.dag import proxy_auth as auth
from controller.dag import proxystatus as ps
from controller.dag.extension import extension_cluster
from controller.dag.model import Cluster, Provenance, Secret, Status, TCPProxy
from controller.dag.policy import COOKIE, REQUEST_HASH, PolicyError
from controller.dag.proxyreads import ProxyReads, ProxyResult
from controller.dag.proxyroutes import MAX_DEPTH, RouteWalk
from controller.dag.secrets import split_secret
from controller.dag.vhost_policy import cors, ip_filter, local_rate_limit
from controller.k8s.httpproxy_views import HPTLSView, HTTPProxyView
from controller.k8s.objects import Key, valid_hostname


def duplicate_fqdns(views: Iterable[HTTPProxyView]) -> dict[Key, ps.ProxyConditions]:
    """Every root sharing its (lower-cased) fqdn with another one gets DuplicateVhost and
    is not processed."""
    groups: dict[str, list[Key]] = {}
    for view in views:
        if view.is_root:
            groups.setdefault(view.fqdn.lower(), []).append(view.key)
    out: dict[Key, ps.ProxyConditions] = {}
    for fqdn, keys in groups.items():
        if len(keys) < 2:
            continue
        message = ps.duplicate_vhost(fqdn, keys)
        for key in keys:
            out[key] = ps.ProxyConditions(vhost=fqdn)
            out[key].error("VirtualHostError", "DuplicateVhost", message)
    return out


def process_root(root: HTTPProxyView, reads: ProxyReads, settings: BuilderSettings
                 ) -> ProxyResult:
    """One root's contribution; the build stage's error boundary (as ingressroute's): a root
    whose processing raises contributes nothing and is invalid with the reason."""
    try:
        return _process_root(root, reads, settings)
    except Exception as err:  # noqa: BLE001
        result = ProxyResult(root.key)
        reason = faults.quarantine_reason("build", f"HTTPProxy {root.namespace}/{root.name}",
                                          err)
        result.cond(root.key).error("BuildError", "Quarantined", reason)
        return result


def _process_root(root: HTTPProxyView, reads: ProxyReads, settings: BuilderSettings
                  ) -> ProxyResult:
    result = ProxyResult(root.key)
    cond = result.cond(root.key)
    assert root.vhost is not None
    vh = root.vhost
    if not vh.fqdn.strip():
        cond.error("VirtualHostError", "FQDNNotSpecified", ps.FQDN_NOT_SPECIFIED)
        return result
    host = vh.fqdn.lower()
    cond.vhost = host
    if not _root_checks(root, host, settings, cond):
        return result
    result.host = host
    if vh.jwt_providers and (vh.tls is None or not vh.tls.secret_name):
        cond.error(auth.JWT_ERROR, "JWTVerificationNotPermitted", auth.JWT_NEEDS_TLS)
        return result
    if vh.tls is None and vh.authorization is not None and vh.authorization.configured:
        cond.error("AuthError", "AuthNotPermitted", authz.NOT_PERMITTED)
        return result
    tls_enabled = vh.tls is not None
    if vh.tls is not None and not _tls(root, vh.tls, host, reads, settings, result):
        return result
    if not _supported(root, cond):
        return result
    if root.tcpproxy is not None:
        if not tls_enabled:
            cond.error("TCPProxyError", "TLSMustBeConfigured", ps.TCPPROXY_NEEDS_TLS)
            return result
        if not _tcpproxy(root, reads, result, []):
            return result
    walk = RouteWalk(reads, result, tls_enabled, not settings.disable_permit_insecure, host)
    walk.auth = authz.route_defaults(vh.authorization) if result.authorization else None
    routes = walk.walk(root)
    secure = tls_enabled and root.tcpproxy is None
    if secure and not auth.routes_providers_defined(routes, result.jwt_providers, cond):
        return result
    if _vhost_policies(root, result, settings):
        result.insecure_vhost = True
        # port 80 has no jwt_authn filter (v1.33): only the HTTPS routes name a provider
        result.routes = [(replace(r, jwt_provider="") if r.jwt_provider else r,
                          replace(r, https_redirect=False) if secure else None)
                         for r in routes]
    return result


def _supported(root: HTTPProxyView, cond: ps.ProxyConditions) -> bool:
    """False (with an error) when the root uses a protective policy not translated yet;
    the other untranslated fields are warnings (httpproxy_views.unsupported_paths: none
    are left since issue 8, the mechanism stays for the next v1.x field)."""
    protective, ignored = root.unsupported
    if protective:
        cond.error("SpecError", "NotSupported", ps.not_supported(protective))
        return False
    if ignored:
        cond.warning("SpecError", "IgnoredField", ps.ignored_unsupported(ignored))
    return True


def _root_checks(root: HTTPProxyView, host: str, settings: BuilderSettings,
                 cond: ps.ProxyConditions) -> bool:
    assert root.vhost is not None
    if settings.root_namespaces and root.namespace not in settings.root_namespaces:
        cond.error("RootNamespaceError", "RootProxyNotAllowedInNamespace", ps.ROOT_NAMESPACE)
        return False
    if not valid_hostname(host, allow_wildcard=True):
        # project addition: the schema refuses it; Envoy would NACK the domain
        cond.error("VirtualHostError", "FQDNNotValid",
                   f"Spec.VirtualHost.Fqdn {ps.go_quote(root.vhost.fqdn)} is not a valid host "
                   "name")
        return False
    if not root.routes and not root.includes and root.tcpproxy is None:
        cond.error("SpecError", "NothingDefined", ps.NOTHING_DEFINED)
        return False
    if root.vhost.ip.allow and root.vhost.ip.deny:
        cond.error("IPFilterError", "IncompatibleIPAddressFilters", ps.IP_BOTH_VHOST)
        return False
    return True


# -- TLS ---------------------------------------------------------------------------------------


def _tls(root: HTTPProxyView, tls: HPTLSView, host: str, reads: ProxyReads,
         settings: BuilderSettings, result: ProxyResult) -> bool:
    """v1.33's TLS block; False stops the root. Passthrough needs no secret."""
    cond = result.cond(root.key)
    blank = not tls.secret_name.strip()
    if tls.passthrough and tls.fallback:
        cond.error("TLSError", "TLSIncompatibleFeatures", ps.TLS_PASSTHROUGH_AND_FALLBACK)
    if not blank and tls.passthrough:
        cond.error("TLSError", "TLSConfigNotValid", ps.TLS_PASSTHROUGH_AND_SECRET)
        return False
    if blank and not tls.passthrough:
        cond.error("TLSError", "TLSConfigNotValid", ps.TLS_NEITHER)
        return False
    if tls.passthrough and tls.client_validation:
        cond.error("TLSError", "TLSIncompatibleFeatures", ps.TLS_PASSTHROUGH_CLIENT_VALIDATION)
        return False
    if tls.passthrough:
        return True
    secret = _lookup_tls(split_secret(tls.secret_name, root.namespace), root.namespace, reads)
    if isinstance(secret, str):
        if secret == _NOT_DELEGATED:
            cond.error("TLSError", "DelegationNotPermitted", ps.tls_delegation(tls.secret_name))
        else:
            cond.error("TLSError", "SecretNotValid", ps.tls_invalid(tls.secret_name, secret))
        return False
    return _secure_vhost(root, tls, secret, reads, settings, result)


def _secure_vhost(root: HTTPProxyView, tls: HPTLSView, secret: Secret, reads: ProxyReads,
                  settings: BuilderSettings, result: ProxyResult) -> bool:
    cond = result.cond(root.key)
    low = tls.min_version if tls.min_version in ("1.2", "1.3") else "1.2"
    high = tls.max_version if tls.max_version in ("1.2", "1.3") else "1.3"
    if high < low:
        cond.error("TLSError", "TLSConfigNotValid", ps.TLS_VERSIONS)
        return False
    result.secret, result.min_tls_version, result.max_tls_version = secret, low, high
    result.secure_vhost = True
    if tls.fallback and tls.client_validation:
        cond.error("TLSError", "TLSIncompatibleFeatures", ps.TLS_FALLBACK_CLIENT_VALIDATION)
        return False
    assert root.vhost is not None
    if tls.fallback and root.vhost.authorization is not None:
        cond.error("TLSError", "TLSIncompatibleFeatures", authz.FALLBACK_INCOMPATIBLE)
        return False
    if tls.fallback and root.vhost.jwt_providers:
        cond.error("TLSError", "TLSIncompatibleFeatures", auth.TLS_FALLBACK_JWT)
        return False
    if tls.fallback and not _fallback(root, reads, settings, result):
        return False
    if tls.client_validation and not auth.client_validation(root, tls.client_validation,
                                                            reads, result):
        return False
    if not _authorization(root, reads, result):
        return False
    return auth.jwt_providers(root, reads, result)


def _fallback(root: HTTPProxyView, reads: ProxyReads, settings: BuilderSettings,
              result: ProxyResult) -> bool:
    """The fallback certificate of an enableFallbackCertificate vhost."""
    cond = result.cond(root.key)
    fallback = settings.fallback_certificate
    if fallback is None:
        cond.error("TLSError", "FallbackNotPresent", ps.FALLBACK_NOT_PRESENT)
        return False
    found = _lookup_tls(fallback, root.namespace, reads)
    if isinstance(found, str):
        if found == _NOT_DELEGATED:
            cond.error("TLSError", "FallbackNotDelegated", ps.fallback_not_delegated(fallback))
        else:
            cond.error("TLSError", "FallbackNotValid", ps.fallback_invalid(fallback, found))
        return False
    result.fallback_secret = found
    return True


_NOT_DELEGATED = "certificate delegation not permitted"


def _lookup_tls(key: Key, namespace: str, reads: ProxyReads) -> Secret | str:
    """v1.33 LookupTLSSecret: the delegation is checked before the secret itself; the error
    text when either fails."""
    secret, permitted = reads.tls_secret(key, namespace)
    if not permitted:
        return _NOT_DELEGATED
    return secret if secret is not None else reads.secret_problem(key)


def _authorization(root: HTTPProxyView, reads: ProxyReads, result: ProxyResult) -> bool:
    """A TLS-terminating root's ext_authz (v1.33 computeSecureVirtualHostAuthorization);
    False stops the root. An authorization without an extensionRef name adds no filter."""
    assert root.vhost is not None
    view = root.vhost.authorization
    if view is None or not view.configured:
        return True
    found = reads.extension_service(view.extension)
    extension = extension_cluster(found, reads)[0] if found is not None else None
    result.authorization = authz.external_authorization(view, extension, result.cond(root.key))
    return result.authorization is not None


# -- tcpproxy ----------------------------------------------------------------------------------


def _tcpproxy(proxy: HTTPProxyView, reads: ProxyReads, result: ProxyResult,
              visited: list[Key]) -> bool:
    """v1.33 processHTTPProxyTCPProxy, following tcpproxy.include; False stops the root."""
    tcp = proxy.tcpproxy
    assert tcp is not None
    cond = result.cond(proxy.key)
    visited = [*visited, proxy.key]
    if tcp.services and tcp.include is not None:
        cond.error("TCPProxyError", "NoServicesAndInclude", ps.TCPPROXY_SERVICES_AND_INCLUDE)
        return False
    if tcp.services:
        return _tcp_services(proxy, reads, result, tuple(visited))
    if tcp.include is None:
        cond.error("TCPProxyError", "NothingDefined", ps.TCPPROXY_NOTHING)
        return False
    dest = reads.httpproxies.get(tcp.include)
    if dest is None or dest.is_root:
        reason, message = (("IncludeNotFound", ps.include_not_found(tcp.include)) if dest is None
                           else ("RootIncludesRoot", ps.root_includes_root(tcp.include)))
        cond.error("TCPProxyIncludeError", reason, message)
        return False
    result.cond(dest.key)  # reached: not orphaned
    if dest.key in visited or len(visited) > MAX_DEPTH:
        message = (ps.tcp_include_cycle([*visited, dest.key]) if dest.key in visited
                   else ps.delegation_too_deep(MAX_DEPTH))
        cond.error("TCPProxyIncludeError", "IncludeCreatesCycle", message)
        return False
    if dest.tcpproxy is None:
        return True  # nothing to forward: v1.33 accepts it silently
    return _tcpproxy(dest, reads, result, visited)


def _tcp_services(proxy: HTTPProxyView, reads: ProxyReads, result: ProxyResult,
                  chain: tuple[Key, ...]) -> bool:
    tcp = proxy.tcpproxy
    assert tcp is not None
    cond = result.cond(proxy.key)
    strategy = tcp.strategy if tcp.strategy in ("WeightedLeastRequest", "Random") else ""
    if tcp.strategy in (COOKIE, REQUEST_HASH):
        cond.warning("TCPProxyError", "IgnoredField",
                     'ignoring field "Spec.TCPProxy.LoadBalancerPolicy"; '
                     f"{tcp.strategy} load balancer policy is not supported for TCPProxies")
    clusters = []
    for svc in tcp.services:
        key = (proxy.namespace, svc.name)
        port = reads.tcp_service_port(key, svc.port)
        if port is None:
            err = (ps.service_port_not_matched(key, svc.port) if reads.service_exists(key)
                   else ps.service_not_found(key))
            cond.error("TCPProxyError", "ServiceUnresolvedReference",
                       ps.unresolved("Spec.TCPProxy", err))
            return False
        clusters.append(Cluster(port, svc.weight, strategy))
    result.tcp_proxy = TCPProxy(tuple(clusters), Provenance("HTTPProxy", chain))
    result.secure_vhost = True
    return True


# -- virtual host policies ---------------------------------------------------------------------


def _vhost_policies(root: HTTPProxyView, result: ProxyResult, settings: BuilderSettings
                    ) -> bool:
    """corsPolicy, rateLimitPolicy, IP filters of the vhost; False: none of the root's
    routes are served."""
    assert root.vhost is not None
    cond = result.cond(root.key)
    try:
        result.cors = cors(root.vhost.cors)
    except PolicyError as err:
        cond.error("CORSError", "PolicyDidNotParse", f"Spec.VirtualHost.CORSPolicy: {err}")
        return False
    try:
        result.rate_limit = local_rate_limit(root.vhost.rate_limit)
    except PolicyError as err:
        cond.error("VirtualHostError", "RateLimitPolicyNotValid",
                   f"Spec.VirtualHost.RateLimitPolicy is invalid: {err}")
        return False
    try:
        result.global_rate_limits = grl.vhost_descriptors(root.vhost.global_rate_limit,
                                                          settings.rate_limit_service)
    except PolicyError as err:
        cond.error("VirtualHostError", "RateLimitPolicyNotValid", str(err))
        return False
    result.ip_filter, ok = ip_filter(root.vhost.ip, cond)
    if not ok:
        cond.error("IPFilterError", "IPFilterPolicyNotValid",
                   "Spec.VirtualHost.IPAllowFilterPolicy or Spec.VirtualHost.IPDenyFilterPolicy "
                   "is invalid: invalid ip filter")
    return ok


def statuses(records: dict[Key, list[ps.ProxyConditions]], views: dict[Key, HTTPProxyView]
             ) -> list[Status]:
    """Every HTTPProxy's status: merged findings, or orphaned for an unvisited non-root."""
    out = []
    for key in sorted(views):
        found = records.get(key)
        if found:
            out.append(ps.status(key, ps.merge(found)))
        elif not views[key].is_root:
            out.append(ps.orphaned(key))
    return out
