"""Route constructors: route_configuration(), virtual_host(), route() and friends (spec §3.2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controller.dag import model
from controller.envoy import pb
from controller.envoy.core import duration
from controller.envoy.names import cluster_name, vhost_name

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


def virtual_host(host: str, routes: Iterable[pb.Route]) -> pb.VirtualHost:
    """A vhost named by hashname(60, host) answering `host` with any port (the table
    ignores ports), or everything."""
    domains = ["*"] if host == "*" else [host]
    return pb.VirtualHost(name=vhost_name(host), domains=domains, routes=routes)


def route_match(route: model.Route) -> pb.RouteMatch:
    """A prefix match, or an RE2 `safe_regex` match (v3 has no plain `regex`)."""
    if route.regex:
        return pb.RouteMatch(safe_regex=pb.RegexMatcher(regex=route.match))
    return pb.RouteMatch(prefix=route.match)


def redirect_route(route: model.Route) -> pb.Route:
    """HTTP → HTTPS 301 (Envoy's default redirect code); no request headers added."""
    return pb.Route(match=route_match(route), redirect=pb.RedirectAction(https_redirect=True))


def route(route: model.Route) -> pb.Route:
    """A forwarding route (x-request-start is added by the table: route_configuration)."""
    return pb.Route(match=route_match(route), route=route_action(route))


def route_action(route: model.Route) -> pb.RouteAction:
    action = pb.RouteAction()
    if len(route.clusters) == 1:
        action.cluster = cluster_name(route.clusters[0])
    else:
        action.weighted_clusters.CopyFrom(weighted_clusters(route.clusters))
    if route.timeout is not None:
        action.timeout.CopyFrom(timeout(route.timeout))
    if route.retry is not None:
        action.retry_policy.CopyFrom(retry_policy(route.retry))
    if route.prefix_rewrite:
        action.prefix_rewrite = route.prefix_rewrite
    if route.websocket:
        action.upgrade_configs.add(upgrade_type="websocket")
    if any(c.strategy == "Cookie" for c in route.clusters):
        action.hash_policy.add().cookie.CopyFrom(session_cookie())
    return action


def weighted_clusters(clusters: Sequence[model.Cluster]) -> pb.WeightedCluster:
    """One entry per service (duplicates kept), sorted by (name, weight); all-zero weights
    become 1 each. v3 deprecates `total_weight`: weights are relative, so it is omitted."""
    all_zero = not any(c.weight for c in clusters)
    entries = sorted((cluster_name(c), 1 if all_zero else c.weight) for c in clusters)
    return pb.WeightedCluster(
        clusters=[
            pb.WeightedCluster.ClusterWeight(name=name, weight=pb.UInt32Value(value=weight))
            for name, weight in entries
        ]
    )


def timeout(seconds: float) -> pb.Duration:
    """Spec §3.6: Timeout.INFINITE (any negative value) is Envoy's 0s: never time out."""
    return duration(max(seconds, 0))


def retry_policy(retry: model.RetryPolicy) -> pb.RetryPolicy:
    """retry_on as given; num_retries and per_try_timeout only when positive."""
    policy = pb.RetryPolicy(retry_on=retry.retry_on)
    if retry.num_retries > 0:
        policy.num_retries.value = retry.num_retries
    if retry.per_try_timeout > 0:
        policy.per_try_timeout.CopyFrom(duration(retry.per_try_timeout))
    return policy


def session_cookie() -> pb.RouteAction.HashPolicy.Cookie:
    """Session affinity for the Cookie strategy: a session cookie (ttl 0) on path /."""
    return pb.RouteAction.HashPolicy.Cookie(name=SESSION_COOKIE, ttl=duration(0), path="/")
