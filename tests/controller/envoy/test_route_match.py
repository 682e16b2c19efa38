"""RouteMatch: path specifiers, header and query parameter matchers (HTTPProxy conditions)."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.route_match import header_matcher, query_matcher, route_match


@pytest.mark.parametrize(
    ("route", "want"),
    [
        pytest.param(m.Route("/a"), 'prefix: "/a"', id="prefix"),
        pytest.param(m.Route("/a", exact=True), 'path: "/a"', id="exact is path"),
        pytest.param(m.Route("/a.*", regex=True), 'safe_regex { regex: "/a.*" }', id="regex"),
        pytest.param(
            m.Route("/", headers=(m.HeaderMatch("x-a", "present"),),
                    query_params=(m.QueryMatch("q", "present"),)),
            'prefix: "/" headers { name: "x-a" present_match: true } '
            'query_parameters { name: "q" present_match: true }',
            id="headers then query parameters"),
    ],
)
def test_route_match(route: m.Route, want: str) -> None:
    assert route_match(route) == text_format.Parse(want, pb.RouteMatch())


@pytest.mark.parametrize(
    ("header", "want"),
    [
        pytest.param(m.HeaderMatch("x", "present"), "present_match: true", id="present"),
        pytest.param(m.HeaderMatch("x", "notpresent"), "present_match: true invert_match: true",
                     id="notpresent inverts present"),
        pytest.param(m.HeaderMatch("x", "exact", "v", ignore_case=True),
                     'string_match { exact: "v" ignore_case: true }', id="exact ignore case"),
        pytest.param(m.HeaderMatch("x", "notexact", "v", treat_missing_as_empty=True),
                     'string_match { exact: "v" } invert_match: true '
                     "treat_missing_header_as_empty: true", id="notexact, missing as empty"),
        pytest.param(m.HeaderMatch("x", "contains", "v"), 'string_match { contains: "v" }',
                     id="contains"),
        pytest.param(m.HeaderMatch("x", "notcontains", "v", ignore_case=True),
                     'string_match { contains: "v" ignore_case: true } invert_match: true',
                     id="notcontains"),
        pytest.param(m.HeaderMatch("x", "regex", "^a+$", ignore_case=True),
                     'string_match { safe_regex { regex: "^a+$" } }',
                     id="regex ignores ignore_case"),
        pytest.param(m.HeaderMatch("x", "exact", "v", treat_missing_as_empty=True),
                     'string_match { exact: "v" }',
                     id="missing as empty only when inverted"),
    ],
)
def test_header_matcher(header: m.HeaderMatch, want: str) -> None:
    got = header_matcher(header)
    assert got == text_format.Parse(f'name: "x" {want}', pb.HeaderMatcher())


@pytest.mark.parametrize(
    ("query", "want"),
    [
        pytest.param(m.QueryMatch("q", "exact", "v"), 'string_match { exact: "v" }', id="exact"),
        pytest.param(m.QueryMatch("q", "prefix", "v", ignore_case=True),
                     'string_match { prefix: "v" ignore_case: true }', id="prefix"),
        pytest.param(m.QueryMatch("q", "suffix", "v"), 'string_match { suffix: "v" }',
                     id="suffix"),
        pytest.param(m.QueryMatch("q", "contains", "v"), 'string_match { contains: "v" }',
                     id="contains"),
        pytest.param(m.QueryMatch("q", "regex", "v+"),
                     'string_match { safe_regex { regex: "v+" } }',
                     id="regex"),
        pytest.param(m.QueryMatch("q", "present"), "present_match: true", id="present"),
    ],
)
def test_query_matcher(query: m.QueryMatch, want: str) -> None:
    got = query_matcher(query)
    assert got == text_format.Parse(f'name: "q" {want}', pb.QueryParameterMatcher())
