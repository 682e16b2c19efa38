"""Route constructors: route_configuration(), virtual_host(), route() and friends (spec §3.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from controller.dag import model
from controller.envoy import extfilters, filters, pb
from controller.envoy.cookies import LUA, cookie_rewrite_per_route
from controller.envoy.core import duration
from controller.envoy.jwt import JWT_AUTHN, jwt_per_route
from controller.envoy.names import cluster_name, vhost_name
from controller.envoy.route_match import set_route_match

SESSION_COOKIE = "X-Contour-Session-Affinity"
REQUEST_START = pb.HeaderValueOption(
    header=pb.HeaderValue(key="x-request-start", value="t=%START_TIME(%s.%3f)%"),
    append_action=pb.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD,
)


def route_configuration(
    name: str, virtual_hosts: Iterable[pb.VirtualHost] = ()
) -> pb.RouteConfiguration:
    """The table, with x-request-start and port-blind host matching set once for all vhosts.

    Spec §3.2 has the header on every forwarding route and the domains [host, host:*] on
    every vhost. Envoy compiles a header formatter per route and indexes every domain on
    each route table update, on its main thread: at 10k vhosts that was ~50 ms and ~12 ms
    of the change-to-visible time (BENCHMARKS.md). Once per table behaves the same for
    every proxied request (a redirect never reaches an upstream), and
    `ignore_port_in_host_matching` drops any ":port" before matching, as `host:*` matched
    it, without rewriting the Host header the upstream sees."""
    return pb.RouteConfiguration(
        name=name,
        virtual_hosts=virtual_hosts,
        request_headers_to_add=[REQUEST_START],
        ignore_port_in_host_matching=True,
    )


def virtual_host(
    host: str, routes: Iterable[pb.Route], per_filter: Mapping[str, pb.Any] | None = None,
    rate_limits: Sequence[model.RateLimitDescriptor] = (),
) -> pb.VirtualHost:
    """A vhost named by hashname(60, host) answering `host` with any port (the table
    ignores ports), or everything; `per_filter` switches on CORS, RBAC, rate limits;
    `rate_limits` are its global rate limit descriptors."""
    domains = ["*"] if host == "*" else [host]
    return pb.VirtualHost(name=vhost_name(host), domains=domains, routes=routes,
                          typed_per_filter_config=per_filter,
                          rate_limits=extfilters.rate_limits(rate_limits))


def redirect_route(route: model.Route) -> pb.Route:
    """HTTP → HTTPS 301 (Envoy's default redirect code); no request headers added."""
    out = pb.Route()
    set_route_match(out.match, route)
    out.redirect.https_redirect = True
    return out


def route(route: model.Route, vhost: str = "", *, secure: bool = False) -> pb.Route:
    """The Envoy route of a route that `forwards`: a direct response, a redirect, or a
    forwarding route with its header policies and per-route filters (stats of a rate
    limit under the vhost's host name `vhost`). x-request-start is added by the table.
    On port 443 (`secure`) a direct response or forwarding route carries its ext_authz
    override, as upstream's buildRoute (port 80 has no ext_authz filter)."""
    out = pb.Route()  # perf: match and action written in place, not copied in
    set_route_match(out.match, route)
    if route.direct_response is not None:
        out.direct_response.CopyFrom(direct_response(route.direct_response))
    elif route.redirect is not None:
        out.redirect.CopyFrom(redirect_action(route.redirect))
        return out
    else:
        set_route_action(out.route, route)
        _set_headers(out, route.request_headers, route.response_headers)
        for name, config in filters.per_filter_config(
            vhost, ip=route.ip_filter, rate_limit=route.rate_limit
        ).items():
            out.typed_per_filter_config[name].CopyFrom(config)
        if route.jwt_provider:
            out.typed_per_filter_config[JWT_AUTHN].CopyFrom(jwt_per_route(route.jwt_provider))
        if route.ignore_vhost_rate_limits:
            out.typed_per_filter_config[extfilters.GLOBAL_RATE_LIMIT].CopyFrom(
                extfilters.ignore_vhost_rate_limits())
    auth = extfilters.auth_per_route(route.auth_disabled, route.auth_context) if secure else None
    if auth is not None:
        out.typed_per_filter_config[extfilters.EXT_AUTHZ].CopyFrom(auth)
    return out


def direct_response(response: model.DirectResponse) -> pb.DirectResponseAction:
    """The status, and the body inline when there is one."""
    out = pb.DirectResponseAction(status=response.status)
    if response.body:
        out.body.inline_string = response.body
    return out


_REDIRECT_CODES = {
    301: pb.RedirectAction.MOVED_PERMANENTLY,
    302: pb.RedirectAction.FOUND,
    303: pb.RedirectAction.SEE_OTHER,
    307: pb.RedirectAction.TEMPORARY_REDIRECT,
    308: pb.RedirectAction.PERMANENT_REDIRECT,
}


def redirect_action(redirect: model.Redirect) -> pb.RedirectAction:
    """Only the parts given are rewritten; a full path wins over a prefix."""
    out = pb.RedirectAction(host_redirect=redirect.hostname, port_redirect=redirect.port,
                            response_code=_REDIRECT_CODES.get(redirect.status_code, 0))
    if redirect.scheme:
        out.scheme_redirect = redirect.scheme
    if redirect.path:
        out.path_redirect = redirect.path
    elif redirect.prefix:
        out.prefix_rewrite = redirect.prefix
    return out


def _set_headers(out: pb.Route | pb.WeightedCluster.ClusterWeight,
                 request: model.HeadersPolicy | None,
                 response: model.HeadersPolicy | None) -> None:
    """Header policies on a route or a weighted-cluster entry (same field names)."""
    if request is not None:
        out.request_headers_to_add.extend(filters.header_options(request.set, request.add))
        out.request_headers_to_remove.extend(sorted(request.remove))
    if response is not None:
        out.response_headers_to_add.extend(filters.header_options(response.set, response.add))
        out.response_headers_to_remove.extend(sorted(response.remove))


def route_action(route: model.Route) -> pb.RouteAction:
    return set_route_action(pb.RouteAction(), route)


def set_route_action(action: pb.RouteAction, route: model.Route) -> pb.RouteAction:
    """`route_action()` written into `action`, an empty RouteAction (a Route's, in
    place); returns it. Empty repeated fields are not extended (perf: ~0.3 µs each)."""
    action.SetInParent()
    if len(route.clusters) == 1 and not _needs_entry(route, route.clusters[0]):
        action.cluster = cluster_name(route.clusters[0])
    else:
        action.weighted_clusters.CopyFrom(weighted_clusters(route.clusters,
                                                            route.cookie_rewrites))
    if route.timeout is not None:
        action.timeout.CopyFrom(timeout(route.timeout))
    if route.idle_timeout is not None:
        action.idle_timeout.CopyFrom(timeout(route.idle_timeout))
    if route.retry is not None:
        action.retry_policy.CopyFrom(retry_policy(route.retry))
    _set_rewrites(action, route)
    if route.websocket:
        action.upgrade_configs.add(upgrade_type="websocket")
    if route.hash_policies:
        action.hash_policy.extend(hash_policy(h) for h in route.hash_policies)
    if any(c.strategy == "Cookie" for c in route.clusters):
        action.hash_policy.add().cookie.CopyFrom(session_cookie())
    if route.mirrors:
        action.request_mirror_policies.extend(mirror_policies(route.mirrors))
    if route.internal_redirect:
        action.internal_redirect_policy.SetInParent()
    if route.global_rate_limits:
        action.rate_limits.extend(extfilters.rate_limits(route.global_rate_limits))
    return action


def _set_rewrites(action: pb.RouteAction, route: model.Route) -> None:
    prefix = route.prefix_rewrite or replacement(route)
    if prefix:
        action.prefix_rewrite = prefix
    if route.regex_rewrite is not None:
        pattern, substitution = route.regex_rewrite
        action.regex_rewrite.pattern.regex = pattern
        action.regex_rewrite.substitution = substitution
    headers = route.request_headers
    if headers is not None and headers.host_rewrite:
        action.host_rewrite_literal = headers.host_rewrite
    elif headers is not None and headers.host_rewrite_header:
        action.host_rewrite_header = headers.host_rewrite_header


def replacement(route: model.Route) -> str:
    """The replacePrefix that applies to the route (v1.33): the one naming the route's own
    prefix, else the one without a prefix (the default); "" when none does."""
    exact = next((new for old, new in route.replace_prefix if old and old == route.match), None)
    if exact is not None:
        return exact
    return next((new for old, new in route.replace_prefix if not old), "")


def _needs_entry(route: model.Route, cluster: model.Cluster) -> bool:
    """A cluster with a header policy or cookie rewrites (its own or its route's) needs a
    weighted-cluster entry to carry them."""
    req, resp = cluster.request_headers, cluster.response_headers
    return bool((req and (req.set or req.add or req.remove or req.host_rewrite))
                or (resp and (resp.set or resp.add or resp.remove))
                or route.cookie_rewrites or cluster.cookie_rewrites)


def weighted_clusters(clusters: Sequence[model.Cluster],
                      cookies: Sequence[model.CookieRewrite] = ()) -> pb.WeightedCluster:
    """One entry per service (duplicates kept) with its header policies and the cookie
    rewrites of the route (`cookies`) then of the service, sorted by (name, weight,
    entry); all-zero weights become 1 each. v3 deprecates `total_weight`: weights are
    relative, so it is omitted."""
    all_zero = not any(c.weight for c in clusters)
    entries = [cluster_weight(c, 1 if all_zero else c.weight, cookies) for c in clusters]
    entries.sort(key=lambda e: (e.name, e.weight.value, e.SerializeToString(deterministic=True)))
    return pb.WeightedCluster(clusters=entries)


def cluster_weight(cluster: model.Cluster, weight: int,
                   cookies: Sequence[model.CookieRewrite] = ()) -> pb.WeightedCluster.ClusterWeight:
    out = pb.WeightedCluster.ClusterWeight(name=cluster_name(cluster),
                                           weight=pb.UInt32Value(value=weight))
    _set_headers(out, cluster.request_headers, cluster.response_headers)
    if cluster.request_headers is not None and cluster.request_headers.host_rewrite:
        out.host_rewrite_literal = cluster.request_headers.host_rewrite
    if cookies or cluster.cookie_rewrites:
        out.typed_per_filter_config[LUA].CopyFrom(
            cookie_rewrite_per_route((*cookies, *cluster.cookie_rewrites)))
    return out


def hash_policy(policy: model.HashPolicy) -> pb.RouteAction.HashPolicy:
    """Hash on a header, a query parameter or the source IP (in the route's order)."""
    out = pb.RouteAction.HashPolicy(terminal=policy.terminal)
    if policy.kind == "header":
        out.header.header_name = policy.name
    elif policy.kind == "query":
        out.query_parameter.name = policy.name
    else:
        out.connection_properties.source_ip = True
    return out


MIRROR_ALL = 100


def mirror_policies(mirrors: Sequence[model.Cluster]) -> list[pb.RouteAction.RequestMirrorPolicy]:
    """A shadow copy of a share of the requests to each mirror: its weight in percent (0 is
    100%, upstream's rule for an omitted weight); sorted by cluster name."""
    out = [
        pb.RouteAction.RequestMirrorPolicy(
            cluster=cluster_name(m),
            runtime_fraction=pb.RuntimeFractionalPercent(default_value=pb.FractionalPercent(
                numerator=m.weight or MIRROR_ALL, denominator=pb.FractionalPercent.HUNDRED)),
        )
        for m in mirrors
    ]
    return sorted(out, key=lambda p: (p.cluster, p.runtime_fraction.default_value.numerator))


def timeout(seconds: float) -> pb.Duration:
    """Spec §3.6: Timeout.INFINITE (any negative value) is Envoy's 0s: never time out."""
    return duration(max(seconds, 0))


def retry_policy(retry: model.RetryPolicy) -> pb.RetryPolicy:
    """retry_on as given; num_retries and per_try_timeout only when positive."""
    policy = pb.RetryPolicy(retry_on=retry.retry_on,
                            retriable_status_codes=retry.retriable_status_codes)
    if retry.num_retries > 0:
        policy.num_retries.value = retry.num_retries
    if retry.per_try_timeout > 0:
        policy.per_try_timeout.CopyFrom(duration(retry.per_try_timeout))
    return policy


def session_cookie() -> pb.RouteAction.HashPolicy.Cookie:
    """Session affinity for the Cookie strategy: a session cookie (ttl 0) on path /."""
    return pb.RouteAction.HashPolicy.Cookie(name=SESSION_COOKIE, ttl=duration(0), path="/")
