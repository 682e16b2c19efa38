"""Route matching as Envoy does it (kubectl_contour/queries/matching.py), table-driven."""

from __future__ import annotations

import pytest

from controller.dag.model import HeaderMatch, QueryMatch, Route
from kubectl_contour.queries.matching import host_matches, mismatch

H = HeaderMatch
CASES = [
    ("prefix", Route("/a"), "/ab", (), ""),
    ("prefix miss", Route("/a"), "/b", (), "path does not start with /a"),
    ("exact", Route("/a", exact=True), "/a?x=1", (), ""),
    ("exact miss", Route("/a", exact=True), "/a/b", (), "path is not exactly /a"),
    ("regex whole path", Route("/a.*", regex=True), "/abc", (), ""),
    ("regex anchored", Route("/b", regex=True), "/abc", (), "path does not match regex /b"),
    ("present", Route("/", headers=(H("x-a", "present"),)), "/", (("X-A", "1"),), ""),
    ("present missing", Route("/", headers=(H("x-a", "present"),)), "/", (),
     "header condition failed: x-a present"),
    ("notpresent", Route("/", headers=(H("x-a", "notpresent"),)), "/", (), ""),
    ("exact ignore case", Route("/", headers=(H("x-a", "exact", "Foo", ignore_case=True),)),
     "/", (("x-a", "fOO"),), ""),
    ("exact case", Route("/", headers=(H("x-a", "exact", "Foo"),)), "/", (("x-a", "fOO"),),
     "header condition failed: x-a exact 'Foo'"),
    ("notexact absent fails", Route("/", headers=(H("x-a", "notexact", "v"),)), "/", (),
     "header condition failed: x-a notexact 'v'"),
    ("notexact absent treat as empty",
     Route("/", headers=(H("x-a", "notexact", "v", treat_missing_as_empty=True),)), "/", (), ""),
    ("notcontains", Route("/", headers=(H("x-a", "notcontains", "bad"),)), "/",
     (("x-a", "good"),), ""),
    ("contains", Route("/", headers=(H("x-a", "contains", "oo"),)), "/", (("x-a", "foo"),), ""),
    ("header regex", Route("/", headers=(H("x-a", "regex", "[0-9]+"),)), "/", (("x-a", "12a"),),
     "header condition failed: x-a regex '[0-9]+'"),
    ("query exact", Route("/", query_params=(QueryMatch("q", "exact", "1"),)), "/?q=1", (), ""),
    ("query missing", Route("/", query_params=(QueryMatch("q", "present"),)), "/", (),
     "query condition failed: ?q present"),
]


@pytest.mark.parametrize(("route", "path", "headers", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_mismatch(route: Route, path: str, headers: tuple[tuple[str, str], ...],
                  expected: str) -> None:
    assert mismatch(route, path, headers) == expected


@pytest.mark.parametrize(("pattern", "host", "expected"), [
    ("a.com", "a.com", True), ("*", "x", True), ("*.a.com", "b.a.com", True),
    ("*.a.com", "c.b.a.com", True), ("*.a.com", "a.com", False), ("*.a.com", "ba.com", False),
])
def test_host_matches(pattern: str, host: str, expected: bool) -> None:
    assert host_matches(pattern, host) is expected
