"""The Envoy constructs the Gateway API added (validated by Envoy's own rules in
tests/controller/envoy's constraint tests and by a real Envoy in tests/e2e): segment-wise
prefixes, regex path rewrites, appended headers, and an SNI chain for any name."""

from __future__ import annotations

from google.protobuf import text_format

from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.filters import header_options
from controller.envoy.listener import filter_chain, tcp_proxy
from controller.envoy.route import route
from controller.envoy.route_match import route_match

SVC = m.Cluster(m.ServicePort("apps", "s", 80))


def test_a_segment_prefix_is_a_path_separated_prefix_without_trailing_slash() -> None:
    assert route_match(m.Route("/a", segment_prefix=True)) == text_format.Parse(
        'path_separated_prefix: "/a"', pb.RouteMatch())
    assert route_match(m.Route("/a/", segment_prefix=True)) == text_format.Parse(
        'path_separated_prefix: "/a"', pb.RouteMatch())
    # `/` matches every path: Envoy refuses an empty path_separated_prefix
    assert route_match(m.Route("/", segment_prefix=True)) == text_format.Parse(
        'prefix: "/"', pb.RouteMatch())


def test_a_regex_rewrite_sets_the_route_action_pattern() -> None:
    out = route(m.Route("/p", clusters=(SVC,), segment_prefix=True,
                        regex_rewrite=("^/p/*", "/")))
    assert out.route.regex_rewrite == text_format.Parse(
        'pattern { regex: "^/p/*" } substitution: "/"', pb.RegexMatchAndSubstitute())
    assert not out.route.prefix_rewrite


def test_appended_headers_come_after_replaced_ones() -> None:
    options = header_options([("x-b", "1")], [("x-a", "2"), ("x-a", "1")])
    assert [(o.header.key, o.header.value, o.append_action) for o in options] == [
        ("x-b", "1", pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD),
        ("x-a", "1", pb.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD),
        ("x-a", "2", pb.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD),
    ]


def test_a_header_policy_with_only_appends_shapes_a_weighted_cluster_entry() -> None:
    policy = m.HeadersPolicy(add=(("x-a", "1"),))
    out = route(m.Route("/", clusters=(m.Cluster(SVC.service, request_headers=policy),)))
    (entry,) = out.route.weighted_clusters.clusters
    assert [h.header.key for h in entry.request_headers_to_add] == ["x-a"]


def test_a_chain_for_any_server_name_has_no_server_names() -> None:
    proxy = tcp_proxy(m.TCPProxy((SVC,)), "/dev/null")
    assert list(filter_chain("*", proxy).filter_chain_match.server_names) == []
    assert list(filter_chain("a.com", proxy).filter_chain_match.server_names) == ["a.com"]
