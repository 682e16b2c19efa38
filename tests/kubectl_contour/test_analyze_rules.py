"""The pure rules behind `analyze`, table-driven: which regexes are understood, which route
covers which (and which is named), merging of an IngressRoute's CTR1003 into a better
finding, and the summary line. (Certificate names: queries/certs.py, test_certs.py; the
overlay: queries/blast.py, test_blast.py.)"""

from __future__ import annotations

import pytest

from controller.dag.model import HeaderMatch, QueryMatch, Route
from kubectl_contour.queries.analyze import counts, without_covered
from kubectl_contour.queries.analyze_model import Finding, finding
from kubectl_contour.queries.analyze_routes import covers, language, ordered, regex_language
from kubectl_contour.render.analyze import summary


@pytest.mark.parametrize(("pattern", "expected"), [
    ("/.*", ("prefix", "/")),
    (".*", ("prefix", "")),
    ("^/api/.*$", ("prefix", "/api/")),
    ("^/foo\\.bar(/.*)?$", ("segment", "/foo.bar")),  # an Ingress Prefix path
    ("^\\/exact$", ("exact", "/exact")),  # an Ingress Exact path
    ("/a\\.b", ("exact", "/a.b")),
    ("/a\\.*", None),  # `\.*` repeats a literal dot: no literal followed by `.*`
    ("/a[0-9].*", None),
    ("/a|/b", None),
    ("/a\\d.*", None),
    ("/(a|b)/.*", None),
], ids=lambda v: str(v))
def test_regex_language(pattern: str, expected: tuple[str, str] | None) -> None:
    assert regex_language(pattern) == expected


def r(match: str, *, regex: bool = False, exact: bool = False,
      headers: tuple[HeaderMatch, ...] = (), query: tuple[QueryMatch, ...] = ()) -> Route:
    return Route(match=match, regex=regex, exact=exact, headers=headers, query_params=query)


X = HeaderMatch("x", "present")
Y = HeaderMatch("y", "exact", "1")
Q = QueryMatch("q", "present")

# (earlier route, later route, covered?)
COVERS = [
    (r("/.*", regex=True), r("/api"), True),
    (r("/api/.*", regex=True), r("/api"), False),  # /api itself does not match /api/.*
    (r("/api.*", regex=True), r("/api"), True),
    (r("^/foo(/.*)?$", regex=True), r("/foo/bar"), True),
    (r("^/foo(/.*)?$", regex=True), r("/foo"), False),  # /foox is not under /foo/
    (r("^/foo(/.*)?$", regex=True), r("/foo", exact=True), True),
    (r("^/foo(/.*)?$", regex=True), r("^/foo/x(/.*)?$", regex=True), True),
    (r("/", exact=True), r("^\\/$", regex=True), True),  # HTTPProxy exact / over an Ingress Exact /
    (r("/a", exact=True), r("/a"), False),
    (r("/.*", regex=True, headers=(X,)), r("/api"), False),  # the earlier one needs header x
    (r("/.*", regex=True, headers=(X,)), r("/api", headers=(X, Y)), True),
    (r("/.*", regex=True, query=(Q,)), r("/api"), False),
    (r("/.*", regex=True), r("/api", query=(Q,)), True),
    (r("/x[a-z]", regex=True), r("/xa"), False),  # not understood: covers nothing
    (r("/api"), r("/api/v1"), True),  # (never in this order in Envoy's: the longer is first)
]


@pytest.mark.parametrize(("a", "b", "expected"), COVERS,
                         ids=[f"{a.match}-over-{b.match}" for a, b, _ in COVERS])
def test_covers(a: Route, b: Route, expected: bool) -> None:
    assert covers(a, language(a), b, language(b)) is expected


def test_longer_prefixes_and_more_conditions_come_first() -> None:
    """Why a prefix never shadows in Envoy's order: what it covers is sorted before it."""
    routes = [r("/"), r("/api"), r("/api", headers=(X,)), r("/.*", regex=True),
              r("/a", exact=True)]
    assert [(x.match, len(x.headers)) for x in ordered(routes)] == [
        ("/a", 0), ("/.*", 0), ("/api", 1), ("/api", 0), ("/", 0)]





def test_an_ingressroute_invalid_finding_yields_to_a_better_one() -> None:
    key = ("default", "a")
    generic = finding("CTR1003", "IngressRoute", key, "fqdn is used in multiple IngressRoutes")
    better = finding("CTR3001", "IngressRoute", key, "fqdn also used by default/b")
    proxy = finding("CTR1003", "HTTPProxy", key, "RouteActionCountNotValid: ...")
    proxy_other = finding("CTR1002", "HTTPProxy", key, "include names a missing object")
    other = finding("CTR1003", "IngressRoute", ("default", "c"), "route creates a cycle")
    unrelated = finding("CTR2003", "IngressRoute", ("default", "c"), "no ready endpoint")
    kept = without_covered([generic, better, proxy, proxy_other, other, unrelated])
    assert kept == [better, proxy, proxy_other, other, unrelated]


def test_summary() -> None:
    found: list[Finding] = [finding("CTR1002", "HTTPProxy", ("a", "b"), "m"),
                            finding("CTR1001", "HTTPProxy", ("a", "c"), "m")]
    assert summary(counts(found)) == "1 error, 1 warning, 0 info"
    assert summary(counts([])) == "0 errors, 0 warnings, 0 info"


def test_unreachable_names_the_first_route_that_covers() -> None:
    """An Ingress `Prefix` /foo (a regex here) and a `/.*` both cover /foo/bar; the one
    Envoy tries first is named. Neither regex covers the other in this order."""
    from dataclasses import replace

    from controller.dag.model import Provenance
    from kubectl_contour.queries.analyze_routes import unreachable

    def owned(route: Route, kind: str, name: str) -> Route:
        return replace(route, provenance=Provenance(kind, (("default", name),)))

    routes = ordered([owned(r("/.*", regex=True), "HTTPProxy", "catch-all"),
                      owned(r("^/foo(/.*)?$", regex=True), "Ingress", "legacy"),
                      owned(r("/foo/bar"), "HTTPProxy", "shop"),
                      owned(r("/zzz", exact=True), "HTTPProxy", "shop")])
    found = list(unreachable("shop.example.com", routes))
    assert [(f.code, f.kind, f.name, f.message) for f in found] == [
        ("CTR2002", "HTTPProxy", "shop", "route prefix /foo/bar on shop.example.com is never "
         "selected: regex ^/foo(/.*)?$ (from Ingress default/legacy) comes first and matches "
         "every request it does")]
