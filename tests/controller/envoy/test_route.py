"""HTTPProxy route actions: direct responses, redirects, header policies, rewrites, mirrors,
hash policies, retries, idle timeouts, internal redirects and per-route filters."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from controller.dag import model as m
from controller.envoy import filters, pb
from controller.envoy import route as er
from controller.envoy.names import cluster_name

KUARD = m.ServicePort("default", "kuard", 80)
PLAIN = cluster_name(m.Cluster(KUARD))
SET = m.HeadersPolicy(set=(("x-b", "2"), ("x-a", "1")), remove=("z", "y"))


def _parse(text: str) -> pb.Route:
    return text_format.Parse(text, pb.Route())


@pytest.mark.parametrize(
    ("route", "want"),
    [
        pytest.param(m.Route("/", direct_response=m.DirectResponse(418, "tea")),
                     'match { prefix: "/" } direct_response { status: 418 body { '
                     'inline_string: "tea" } }', id="direct response with body"),
        pytest.param(m.Route("/", direct_response=m.DirectResponse(204)),
                     'match { prefix: "/" } direct_response { status: 204 }',
                     id="direct response, no body"),
        pytest.param(m.Route("/", redirect=m.Redirect("https", "b.io", 443, path="/p",
                                                      status_code=301)),
                     'match { prefix: "/" } redirect { scheme_redirect: "https" '
                     'host_redirect: "b.io" port_redirect: 443 path_redirect: "/p" '
                     "response_code: MOVED_PERMANENTLY }", id="redirect, full path"),
        pytest.param(m.Route("/", redirect=m.Redirect(prefix="/new", status_code=307)),
                     'match { prefix: "/" } redirect { prefix_rewrite: "/new" '
                     "response_code: TEMPORARY_REDIRECT }", id="redirect, prefix"),
        pytest.param(m.Route("/", redirect=m.Redirect()),
                     'match { prefix: "/" } redirect { response_code: FOUND }',
                     id="redirect default 302"),
    ],
)
def test_non_forwarding_routes(route: m.Route, want: str) -> None:
    assert er.route(route) == _parse(want)


def test_route_header_policies_are_sorted_and_replace() -> None:
    route = m.Route("/", (m.Cluster(KUARD),), request_headers=m.HeadersPolicy(
        set=SET.set, remove=SET.remove, host_rewrite="in.io"), response_headers=SET)
    got = er.route(route)
    assert [h.header.key for h in got.request_headers_to_add] == ["x-a", "x-b"]
    assert list(got.request_headers_to_remove) == ["y", "z"]
    assert [h.header.key for h in got.response_headers_to_add] == ["x-a", "x-b"]
    assert {h.append_action for h in got.response_headers_to_add} == {
        pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD}
    assert got.route.host_rewrite_literal == "in.io"
    assert got.route.cluster == PLAIN


def test_a_single_cluster_with_header_policies_is_a_weighted_entry() -> None:
    shaped = m.Cluster(KUARD, request_headers=m.HeadersPolicy(set=(("x", "1"),),
                                                              host_rewrite="h.io"),
                       response_headers=m.HeadersPolicy(remove=("server",)))
    action = er.route_action(m.Route("/", (shaped,)))
    assert action.WhichOneof("cluster_specifier") == "weighted_clusters"
    (entry,) = action.weighted_clusters.clusters
    want = f"""name: "{PLAIN}" weight {{ value: 1 }}
        request_headers_to_add {{ header {{ key: "x" value: "1" }}
                                  append_action: OVERWRITE_IF_EXISTS_OR_ADD }}
        response_headers_to_remove: "server" host_rewrite_literal: "h.io" """
    assert entry == text_format.Parse(want, pb.WeightedCluster.ClusterWeight())


def test_an_empty_header_policy_keeps_the_plain_cluster() -> None:
    plain = m.Cluster(KUARD, request_headers=m.HeadersPolicy())
    assert er.route_action(m.Route("/", (plain,))).cluster == PLAIN


@pytest.mark.parametrize(
    ("match", "pairs", "want"),
    [
        pytest.param("/api", (("", "/d"), ("/api", "/v2")), "/v2", id="own prefix wins"),
        pytest.param("/other", (("", "/d"), ("/api", "/v2")), "/d", id="else the default"),
        pytest.param("/other", (("/api", "/v2"),), "", id="none applies"),
    ],
)
def test_replace_prefix(match: str, pairs: tuple[tuple[str, str], ...], want: str) -> None:
    assert er.route_action(m.Route(match, (m.Cluster(KUARD),),
                                   replace_prefix=pairs)).prefix_rewrite == want


def test_route_action_policies() -> None:
    mirror = m.ServicePort("default", "mirror", 80)
    route = m.Route(
        "/", (m.Cluster(KUARD),), idle_timeout=30.0, internal_redirect=True,
        mirrors=(m.Cluster(mirror, 25), m.Cluster(KUARD)),
        retry=m.RetryPolicy("retriable-status-codes", retriable_status_codes=(503, 502)),
        hash_policies=(m.HashPolicy("header", "x-u", terminal=True), m.HashPolicy("query", "id"),
                       m.HashPolicy("source_ip")))
    got = er.route_action(route)
    assert got.idle_timeout == pb.Duration(seconds=30)
    assert got.HasField("internal_redirect_policy")
    assert [(p.cluster, p.runtime_fraction.default_value.numerator)
            for p in got.request_mirror_policies] == [
        (PLAIN, 100), (cluster_name(m.Cluster(mirror)), 25)]
    assert list(got.retry_policy.retriable_status_codes) == [503, 502]
    assert [h.WhichOneof("policy_specifier") for h in got.hash_policy] == [
        "header", "query_parameter", "connection_properties"]
    assert [h.terminal for h in got.hash_policy] == [True, False, False]


def test_per_route_filters_only_on_forwarding_routes() -> None:
    ip = m.IPFilter(False, (m.CIDR("10.0.0.0", 8),))
    limit = m.LocalRateLimit(1, 1, 1.0)
    forward = er.route(m.Route("/", (m.Cluster(KUARD),), ip_filter=ip, rate_limit=limit), "v")
    assert sorted(forward.typed_per_filter_config) == [filters.LOCAL_RATE_LIMIT, filters.RBAC]
    direct = er.route(m.Route("/", direct_response=m.DirectResponse(200), ip_filter=ip))
    assert not direct.typed_per_filter_config


def test_virtual_host_carries_per_filter_config() -> None:
    config = filters.per_filter_config("a.io", cors=m.CORSPolicy(allow_origin=(("*", False),)))
    vhost = er.virtual_host("a.io", [], config)
    assert list(vhost.typed_per_filter_config) == [filters.CORS]
