"""The include walk's route shaping: prefix-rewrite expansion, bounds on hostile graphs."""

from __future__ import annotations

import time

import dagkit as k

from controller.dag.model import Route
from controller.dag.proxyroutes import expand_prefix_rewrites
from controller.dag.walk_limits import MAX_DEPTH


def test_a_lone_rewritten_prefix_is_split_in_two() -> None:
    routes = [Route("/api/", replace_prefix=(("/api/", "/v1/"),)), Route("/")]
    assert [(r.match, r.replace_prefix) for r in expand_prefix_rewrites(routes)] == [
        ("/api", (("/api", "/v1"),)), ("/", ()), ("/api/", (("/api/", "/v1/"),))]


def test_a_rewrite_to_root_keeps_one_slash() -> None:
    routes = [Route("/p", replace_prefix=(("/p", "/"),))]
    assert [(r.match, r.replace_prefix) for r in expand_prefix_rewrites(routes)] == [
        ("/p", (("/p", "/"),)), ("/p/", (("/p/", "/"),))]


def test_two_routes_at_one_prefix_are_left_alone() -> None:
    routes = [Route("/p", replace_prefix=(("/p", "/x"),)), Route("/p/")]
    assert expand_prefix_rewrites(routes) == routes


def test_a_deep_include_chain_is_refused_not_recursed() -> None:
    objs = [k.service("s1"), k.hp("root", fqdn="a.com", includes=[k.include("c0")])]
    objs += [k.hp(f"c{i}", includes=[k.include(f"c{i + 1}")]) for i in range(MAX_DEPTH + 5)]
    dag = k.build_both(*objs)
    errors = [e for s in dag.statuses for e in s.conditions[0].errors]
    assert [e.reason for e in errors if e.reason != "Orphaned"] == ["IncludeTooDeep"]


def test_a_lattice_of_diamonds_takes_linear_time() -> None:
    layers = 40
    objs = [k.service("s1"), k.hp("root", fqdn="a.com",
                                  includes=[k.include("l0a"), k.include("l0b")])]
    for i in range(layers):
        nxt = [k.include(f"l{i + 1}a", conditions=[{"prefix": "/a"}]),
               k.include(f"l{i + 1}b", conditions=[{"prefix": "/b"}])] if i + 1 < layers else []
        for side in "ab":
            objs.append(k.hp(f"l{i}{side}", includes=nxt,
                             routes=[k.hp_route(k.hp_svc("s1"))] if not nxt else None))
    start = time.monotonic()
    dag = k.build_full(*objs)
    assert time.monotonic() - start < 30
    root = next(s for s in dag.statuses if s.name == "root")
    assert [e.reason for e in root.conditions[0].errors] == ["IncludeGraphTooLarge"]
