"""The HTTPProxy include walk and its routes (v1.33 computeRoutes), for one root.

`RouteWalk.walk(root)` returns the root's routes (port-80 form: `https_redirect` set where
TLS is enforced), recording on `result` each visited proxy's findings and every proxy
reached through an include. An invalid route drops every route of its proxy (includes'
routes too), as v1.33 does; an include that fails to resolve answers 502 for its own
conditions. Depth and visit bounds keep hostile include graphs linear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple, TypeVar

from controller.dag import authz
from controller.dag import conditions as cnd
from controller.dag import global_ratelimit as grl
from controller.dag import policy as pol
from controller.dag import proxy_auth as auth
from controller.dag import proxystatus as ps
from controller.dag.model import (
    Cluster,
    DirectResponse,
    HealthCheck,
    Protocol,
    Provenance,
    Route,
    ServicePort,
    UpstreamValidation,
)
from controller.dag.proxyreads import ProxyReads, ProxyResult
from controller.dag.secrets import split_secret
from controller.dag.vhost_policy import ip_filter, local_rate_limit
from controller.dag.walk_limits import MAX_DEPTH, MAX_VISITS
from controller.k8s.httpproxy_parts import HPServiceView, MatchConditionView
from controller.k8s.httpproxy_views import HPRouteView, HTTPProxyView, IncludeView
from controller.k8s.objects import Key

Conds = tuple[MatchConditionView, ...]
T = TypeVar("T")


def match_fields(conds: Sequence[MatchConditionView]) -> dict[str, object]:
    """The Route fields of the merged conditions: match, exact, regex, headers, queries."""
    kind, path = cnd.merge_path(conds)
    return {"match": path, "exact": kind == cnd.EXACT, "regex": kind == cnd.REGEX,
            "headers": cnd.merge_headers(conds), "query_params": cnd.merge_query(conds)}


def route_for(conds: Sequence[MatchConditionView], **fields: object) -> Route:
    """A Route matching the merged conditions."""
    return Route(**match_fields(conds), **fields)  # type: ignore[arg-type]


class RouteWalk:
    """One root's walk through its includes."""

    __slots__ = ("reads", "result", "enforce_tls", "permit_insecure", "wildcard", "path",
                 "visits", "auth")

    def __init__(self, reads: ProxyReads, result: ProxyResult, enforce_tls: bool,
                 permit_insecure: bool, fqdn: str) -> None:
        self.reads, self.result = reads, result
        self.enforce_tls, self.permit_insecure = enforce_tls, permit_insecure
        self.wildcard = cnd.wildcard_host_match(fqdn) if fqdn.startswith("*.") else None
        self.path: list[Key] = []
        self.visits = 0
        self.auth: authz.RouteAuth | None = None
        """The root's authorization defaults for every route (None: no ext_authz)."""

    def walk(self, proxy: HTTPProxyView, conds: Conds = ()) -> list[Route]:
        """v1.33 computeRoutes for `proxy` under the include conditions `conds`."""
        cond = self.result.cond(proxy.key)
        if proxy.key in self.path:
            cond.error("IncludeError", "IncludeCreatesCycle",
                       ps.include_cycle([*self.path, proxy.key]))
            return []
        self.path.append(proxy.key)
        try:
            routes = self._includes(proxy, conds, cond)
            for view in proxy.routes:
                route = self._route(proxy, view, conds, cond)
                if route is None:
                    return []
                routes.append(route)
            return expand_prefix_rewrites(routes)
        finally:
            self.path.pop()

    # -- includes --------------------------------------------------------------------------

    def _includes(self, proxy: HTTPProxyView, conds: Conds, cond: ps.ProxyConditions
                  ) -> list[Route]:
        routes: list[Route] = []
        seen: cnd.SeenIncludes = set()
        for inc in proxy.includes:
            if self._include_invalid(inc, cond, seen):
                continue
            target = self.reads.httpproxies.get(inc.key)
            if target is None or target.is_root:
                if target is None:
                    cond.error("IncludeError", "IncludeNotFound", ps.include_not_found(inc.key))
                else:
                    cond.error("IncludeError", "RootIncludesRoot",
                               ps.root_includes_root(inc.key))
                if inc.conditions:
                    routes.append(self._bad_gateway(inc.conditions))
                continue
            if self._may_descend(cond):
                routes.extend(self.walk(target, conds + inc.conditions))
        return routes

    def _include_invalid(self, inc: IncludeView, cond: ps.ProxyConditions,
                         seen: cnd.SeenIncludes) -> bool:
        """v1.33's include checks in order; True after recording the first problem."""
        problem = cnd.include_error(inc.conditions) or cnd.path_error(inc.conditions)
        if problem:
            cond.error("IncludeError", "PathMatchConditionsNotValid", f"include: {problem}")
            return True
        problem = cnd.header_error(inc.conditions)
        if problem:
            cond.error("RouteError", "HeaderMatchConditionsNotValid", problem)
            return True
        problem = cnd.query_error(inc.conditions)
        if problem:
            cond.error("RouteError", "QueryParameterMatchConditionsNotValid", problem)
            return True
        if cnd.include_duplicate(inc.conditions, seen):
            cond.error("IncludeError", "DuplicateMatchConditions", ps.DUPLICATE_INCLUDE)
            return True
        return False

    def _may_descend(self, cond: ps.ProxyConditions) -> bool:
        """Project bounds (hostile input): too deep is an error on the includer, too many
        visits an error on the root; either way the include is not followed."""
        if len(self.path) > MAX_DEPTH:
            cond.error("IncludeError", "IncludeTooDeep", ps.delegation_too_deep(MAX_DEPTH))
            return False
        self.visits += 1
        if self.visits > MAX_VISITS:
            if self.visits == MAX_VISITS + 1:
                self.result.cond(self.result.key).error(
                    "IncludeError", "IncludeGraphTooLarge", ps.delegation_too_large(MAX_VISITS))
            return False
        return True

    def _bad_gateway(self, conds: Conds) -> Route:
        return route_for(conds, direct_response=DirectResponse(502),
                         provenance=Provenance("HTTPProxy", tuple(self.path)))

    # -- routes ----------------------------------------------------------------------------

    def _route(self, proxy: HTTPProxyView, view: HPRouteView, conds: Conds,
               cond: ps.ProxyConditions) -> Route | None:
        """One route, or None after recording why every route of `proxy` is dropped.

        perf: the route's fields are gathered in one dict and the (frozen, 36-field) Route is
        built once: five `dataclasses.replace` per route were ~6 % of a 10k HTTPProxy cold
        start (py-spy)."""
        all_conds = conds + view.conditions
        try:
            fields = self._route_fields(proxy, view, all_conds, cond)
        except _RouteError as err:
            cond.error(err.type, err.reason, err.message)
            return None
        filt, ok = ip_filter(view.ip, cond)
        if not ok:
            return None
        fields["ip_filter"] = filt
        if self.auth is not None:
            fields["auth_disabled"], fields["auth_context"] = authz.route_auth(
                self.auth, view.auth_policy)
        return Route(**fields)  # type: ignore[arg-type]

    def _route_fields(self, proxy: HTTPProxyView, view: HPRouteView, all_conds: Conds,
                      cond: ps.ProxyConditions) -> dict[str, object]:
        """v1.33's checks and policies of one route, in its order (the first error wins):
        the Route's fields."""
        _check_route(view, all_conds)
        fields, strategy, idle_connection = _route_policies(proxy, view, cond)
        fields.update(match_fields(all_conds))
        fields["https_redirect"] = self.enforce_tls and not (view.permit_insecure
                                                             and self.permit_insecure)
        fields["provenance"] = Provenance("HTTPProxy", tuple(self.path))
        replaced = _replace_prefix(fields, view)
        if replaced:
            fields["replace_prefix"] = replaced
        health = _policy("RouteError", "HealthCheckPolicyInvalid", "", pol.health_check,
                         view.health_check)
        fields.update(self._services(proxy, view, fields["direct_response"],
                                     _ClusterShape(strategy, health, idle_connection), cond))
        if self.wildcard is not None:
            fields["headers"] = tuple(sorted((*fields["headers"], self.wildcard)))  # type: ignore[misc]
        provider = _policy(auth.JWT_ERROR, "InvalidJWTVerificationPolicy", "",
                           auth.route_provider, view.jwt, self.result.default_jwt)
        if provider:
            fields["jwt_provider"] = provider
        return fields

    # -- services --------------------------------------------------------------------------

    def _services(self, proxy: HTTPProxyView, view: HPRouteView, direct: object,
                  shape: _ClusterShape, cond: ps.ProxyConditions) -> dict[str, object]:
        """The route's clusters, mirrors and direct response (503 when no service is left
        and the route has no other action)."""
        clusters: list[Cluster] = []
        mirrors: list[Cluster] = []
        for svc in view.services:
            if not 1 <= svc.port <= 65535:
                raise _RouteError("ServiceError", "ServicePortInvalid",
                                  ps.service_port_invalid(svc.name))
            port = self._service_port((proxy.namespace, svc.name), svc.port, cond)
            if port is None:
                continue
            cluster = self._cluster(proxy, svc, port, shape)
            if svc.mirror and mirrors:
                raise _RouteError("ServiceError", "OnlyOneMirror", ps.ONLY_ONE_MIRROR)
            if svc.mirror:
                mirrors.append(replace(cluster, weight=svc.weight or 100))
            else:
                clusters.append(cluster)
        if not clusters and view.redirect is None and view.direct_response is None:
            direct = DirectResponse(503)
        return {"clusters": tuple(clusters), "mirrors": tuple(mirrors),
                "direct_response": direct}

    def _service_port(self, key: Key, port: int, cond: ps.ProxyConditions
                      ) -> ServicePort | None:
        found = self.reads.service_port(key, port)
        if found is None:
            err = (ps.service_port_not_matched(key, port) if self.reads.service_exists(key)
                   else ps.service_not_found(key))
            cond.error("ServiceError", "ServiceUnresolvedReference",
                       ps.unresolved("Spec.Routes", err))
        return found

    def _cluster(self, proxy: HTTPProxyView, svc: HPServiceView, port: ServicePort,
                 shape: _ClusterShape) -> Cluster:
        """One service's cluster; raises _RouteError for what drops the proxy's routes."""
        if svc.protocol is not None:
            if svc.protocol not in ("h2", "h2c", "tls"):
                raise _RouteError("ServiceError", "UnsupportedProtocol",
                                  ps.unsupported_protocol(svc.protocol))
            port = replace(port, protocol=Protocol(svc.protocol))
        validation = None
        if port.protocol in (Protocol.TLS, Protocol.H2) and svc.validation is not None:
            validation = self._validation(proxy, svc)
        dynamic = {"CONTOUR_NAMESPACE": proxy.namespace, "CONTOUR_SERVICE_NAME": svc.name,
                   "CONTOUR_SERVICE_PORT": str(svc.port)}
        req = _policy("ServiceError", "RequestHeadersPolicyInvalid", " on request headers",
                      pol.headers_policy, svc.request_headers, True, dynamic)
        resp = _policy("ServiceError", "ResponseHeadersPolicyInvalid", " on response headers",
                       pol.headers_policy, svc.response_headers, False, dynamic)
        cookies = _policy("RouteError", "CookieRewritePoliciesInvalid",
                          " on service cookie rewrite rules", auth.cookie_rewrites,
                          svc.cookie_rewrites)
        slow = None
        if svc.slow_start is not None:
            if shape.strategy not in ("", pol.ROUND_ROBIN, pol.WEIGHTED_LEAST_REQUEST):
                raise _RouteError("ServiceError", "SlowStartInvalid", ps.SLOW_START_STRATEGY)
            slow = _policy("ServiceError", "SlowStartInvalid", " on slow start", pol.slow_start,
                           svc.slow_start)
        return Cluster(port, svc.weight, shape.strategy, shape.health, validation, slow,
                       shape.idle_connection, req, resp, cookies)

    def _validation(self, proxy: HTTPProxyView, svc: HPServiceView) -> UpstreamValidation:
        """v1.33 LookupUpstreamValidation: a CA of another namespace must be delegated."""
        assert svc.validation is not None
        key = split_secret(svc.validation.ca_secret, proxy.namespace)
        name = ps.go_quote(f"{key[0]}/{key[1]}")
        if not self.reads.tls_secret(key, proxy.namespace)[1]:
            raise _RouteError("TLSError", "CACertificateNotDelegated",
                              f"service.UpstreamValidation.CACertificate Secret {name} is not "
                              "configured for certificate delegation")
        ca = self.reads.ca_certificate(key)
        problem = "" if ca else f"invalid CA Secret {name}: Secret not found"
        if not problem and not svc.validation.subject_name:
            problem = "missing subject alternative name"
        if problem:
            raise _RouteError("ServiceError", "TLSUpstreamValidation",
                              f"Service [{svc.name}:{svc.port}] TLS upstream validation policy "
                              f"error: {problem}")
        return UpstreamValidation(svc.validation.ca_secret, ca, svc.validation.subject_name)


class _ClusterShape(NamedTuple):
    """What every cluster of one route shares."""

    strategy: str
    health: HealthCheck | None
    idle_connection: float | None


class _RouteError(Exception):
    """A finding that drops every route of the proxy."""

    def __init__(self, type_: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.type, self.reason, self.message = type_, reason, message


def _policy(type_: str, reason: str, suffix: str, fn: Callable[..., T], *args: object,
            prefix: str = "") -> T:
    """Run a policy converter; its PolicyError becomes a _RouteError with v1.33's framing."""
    try:
        return fn(*args)
    except pol.PolicyError as err:
        raise _RouteError(type_, reason, f"{prefix}{err}{suffix}") from None


def _route_policies(proxy: HTTPProxyView, view: HPRouteView, cond: ps.ProxyConditions
                    ) -> tuple[dict[str, object], str, float | None]:
    """(Route fields, load-balancer strategy, idle connection timeout) of one route."""
    dynamic = {"CONTOUR_NAMESPACE": proxy.namespace}
    req = _policy("RouteError", "RequestHeadersPolicyInvalid", " on request headers",
                  pol.headers_policy, view.request_headers, True, dynamic)
    resp = _policy("RouteError", "ResponseHeaderPolicyInvalid", " on response headers",
                   pol.headers_policy, view.response_headers, False, dynamic)
    cookies = _policy("RouteError", "CookieRewritePoliciesInvalid",
                      " on route cookie rewrite rules", auth.cookie_rewrites,
                      view.cookie_rewrites)
    timeout, idle, idle_connection = _policy(
        "RouteError", "TimeoutPolicyNotValid", "", pol.timeout_policy, view.timeout,
        prefix="route.timeoutPolicy failed to parse: ")
    rate_limit = _policy("RouteError", "RateLimitPolicyNotValid", "", local_rate_limit,
                         view.rate_limit, prefix="route.rateLimitPolicy is invalid: ")
    global_limits = _policy("RouteError", "RateLimitPolicyNotValid", "", grl.descriptors,
                            view.global_rate_limit, prefix="route.rateLimitPolicy is invalid: ")
    hashes, strategy = pol.request_hash(view.load_balancer, cond)
    redirect = _policy("RouteError", "RequestRedirectPolicy", "", pol.redirect, view.redirect,
                       prefix="route.requestRedirectPolicy is invalid: ")
    direct = view.direct_response
    fields: dict[str, object] = dict(
        websocket=view.websockets, timeout=timeout, idle_timeout=idle,
        retry=pol.retry_policy(view.retry), request_headers=req, response_headers=resp,
        rate_limit=rate_limit, hash_policies=hashes, redirect=redirect,
        global_rate_limits=global_limits,
        ignore_vhost_rate_limits=grl.ignores_vhost(view.global_rate_limit),
        direct_response=DirectResponse(direct.status_code, direct.body) if direct else None,
        internal_redirect=view.internal_redirect, cookie_rewrites=cookies,
    )
    return fields, strategy, idle_connection


def _check_route(view: HPRouteView, all_conds: Conds) -> None:
    """v1.33's per-route checks before any policy: action count, then conditions."""
    actions = (bool(view.services), view.redirect is not None, view.direct_response is not None)
    if sum(actions) != 1:
        raise _RouteError("RouteError", "RouteActionCountNotValid", ps.ROUTE_ACTION_COUNT)
    problem = cnd.path_error(view.conditions)
    if problem:
        raise _RouteError("RouteError", "PathMatchConditionsNotValid", f"route: {problem}")
    problem = cnd.header_error(all_conds)
    if problem:
        raise _RouteError("RouteError", "HeaderMatchConditionsNotValid", problem)
    problem = cnd.query_error(all_conds)
    if problem:
        raise _RouteError("RouteError", "QueryParameterMatchConditionsNotValid", problem)


def _replace_prefix(fields: dict[str, object], view: HPRouteView
                    ) -> tuple[tuple[str, str], ...]:
    """pathRewritePolicy.replacePrefix: needs a prefix match; the chosen replacement is
    stored as the single pair (route prefix, replacement); () for none."""
    if not view.replace_prefix:
        return ()
    if fields["exact"] or fields["regex"]:
        raise _RouteError("PrefixReplaceError", "MustHavePrefix", ps.MUST_HAVE_PREFIX)
    problem = pol.replace_prefix_error(view.replace_prefix)
    if problem:
        raise _RouteError("PrefixReplaceError", *problem)
    match = str(fields["match"])
    replacement = pol.chosen_replacement(view.replace_prefix, match)
    return () if replacement is None else ((match, replacement),)


def expand_prefix_rewrites(routes: list[Route]) -> list[Route]:
    """v1.33 expandPrefixMatches: a rewritten prefix route that is alone at its prefix
    (trailing '/' ignored) is split into `/p` and `/p/`, so that `/pfoo` is not rewritten
    and both `/p` and `/p/x` keep exactly one '/' after the replacement."""
    if not any(r.replace_prefix for r in routes):
        return routes  # nothing to split (perf: the common case, once per visited proxy)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(routes):
        if not r.exact and not r.regex:
            groups.setdefault(r.match if r.match == "/" else r.match.rstrip("/"), []).append(i)
    out = list(routes)
    for prefix, members in groups.items():
        r = routes[members[0]]
        if len(members) != 1 or not r.replace_prefix or r.match == "/":
            continue
        rewrite = r.replace_prefix[0][1].rstrip("/")
        out[members[0]] = replace(r, match=prefix, replace_prefix=((prefix, rewrite or "/"),))
        out.append(replace(r, match=prefix + "/", replace_prefix=((prefix + "/", rewrite + "/"),)))
    return out
