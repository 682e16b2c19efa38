"""HTTPProxy condition merging and validity (v1.33 conditions.go), table-driven."""

from __future__ import annotations

import pytest

from controller.dag import conditions as c
from controller.dag.model import HeaderMatch, QueryMatch
from controller.k8s.httpproxy_parts import (
    HeaderConditionView,
    MatchConditionView,
    QueryConditionView,
)

M = MatchConditionView


def H(name: str = "x", **ops: object) -> MatchConditionView:  # noqa: N802
    return M(header=HeaderConditionView(name, **ops))  # type: ignore[arg-type]


def Q(name: str = "q", **ops: object) -> MatchConditionView:  # noqa: N802
    return M(query=QueryConditionView(name, **ops))  # type: ignore[arg-type]


@pytest.mark.parametrize(("conds", "want"), [
    ((), ("prefix", "/")),
    ((M(prefix="/a"), M(prefix="/b")), ("prefix", "/a/b")),
    ((M(prefix="/a/"), M(prefix="/")), ("prefix", "/a/")),
    ((M(prefix="/app"), M(exact="/foo")), ("exact", "/app/foo")),
    ((M(prefix="/a"), M(regex="/b.*")), ("regex", "/a/b.*")),
    ((M(exact="/foo"), H(present=True)), ("prefix", "/foo")),  # the last condition decides
    ((H(present=True),), ("prefix", "/")),
])
def test_merge_path(conds: tuple[MatchConditionView, ...], want: tuple[str, str]) -> None:
    assert c.merge_path(conds) == want


@pytest.mark.parametrize(("conds", "want"), [
    ((M(prefix="/a"),), None),
    ((M(prefix="api"),), "prefix conditions must start with /, api was supplied"),
    ((M(exact="x"),), "exact conditions must start with /, x was supplied"),
    ((M(prefix="/a"), M(prefix="/b")),
     "more than one prefix, exact or regex is not allowed in a condition block"),
    ((M(regex="/(("),), "supplied regex: /(( invalid. error: not a valid RE2 expression"),
])
def test_path_error(conds: tuple[MatchConditionView, ...], want: str | None) -> None:
    assert c.path_error(conds) == want


@pytest.mark.parametrize(("conds", "want"), [
    ((M(prefix="/a"), H(present=True)), None),
    ((M(exact="/a"),), "exact conditions are not allowed in includes block"),
    ((M(regex="/a"),), "regex conditions are not allowed in includes block"),
])
def test_include_error(conds: tuple[MatchConditionView, ...], want: str | None) -> None:
    assert c.include_error(conds) == want


DUP_EXACT = "cannot specify duplicate header 'exact match' conditions in the same route"


@pytest.mark.parametrize(("conds", "want"), [
    ((H(exact="a"), H("y", exact="a")), None),
    ((H(exact="a"), H("X", exact="b")), DUP_EXACT),
    ((H(present=True), H(notpresent=True)),
     "cannot specify contradictory 'present' and 'notpresent' conditions for the same route "
     "and header"),
    ((H(notexact="a"), H(exact="a")),
     "cannot specify contradictory 'exact' and 'notexact' conditions for the same route and "
     "header"),
    ((H(notexact="a", ignore_case=True), H(exact="a")), None),  # v1.33 looks up the bare struct
    ((H(contains="a"), H(notcontains="a")),
     "cannot specify contradictory 'contains' and 'notcontains' conditions for the same route "
     "and header"),
    ((H(notexact="a"), H(notexact="b")), None),
    ((H(regex="(("),), "invalid regular expression specified for 'regex' condition"),
])
def test_header_error(conds: tuple[MatchConditionView, ...], want: str | None) -> None:
    assert c.header_error(conds) == want


def test_merge_headers_maps_every_operator_and_sorts() -> None:
    conds = (H("b", notcontains="v", ignore_case=True, treat_missing_as_empty=True),
             H("a", exact="v", ignore_case=True, treat_missing_as_empty=True),
             H("c", notpresent=True), H("d", regex="v.*"))
    assert c.merge_headers(conds) == (
        HeaderMatch("a", "exact", "v", True, False),
        HeaderMatch("b", "notcontains", "v", True, True),
        HeaderMatch("c", "notpresent"),
        HeaderMatch("d", "regex", "v.*"),
    )


@pytest.mark.parametrize(("conds", "want"), [
    ((Q(exact="1"), Q("r", prefix="p")), None),
    ((Q(),), "must specify at least one query parameter condition"),
    ((Q(exact="1", prefix="p"),),
     "cannot specify more than one condition in the same match condition branch"),
    ((Q(exact="1"), Q("Q", exact="2")),
     "cannot specify duplicate query parameter 'exact match' conditions in the same route"),
    ((Q(regex="(("),), "invalid regular expression specified for 'regex' condition"),
])
def test_query_error(conds: tuple[MatchConditionView, ...], want: str | None) -> None:
    assert c.query_error(conds) == want


def test_merge_query() -> None:
    assert c.merge_query((Q("b", present=True), Q("a", contains="x", ignore_case=True))) == (
        QueryMatch("a", "contains", "x", True), QueryMatch("b", "present"))


def test_include_duplicate() -> None:
    seen: c.SeenIncludes = set()
    assert not c.include_duplicate((), seen)
    assert not c.include_duplicate((), seen)  # a bare '/' never conflicts
    assert not c.include_duplicate((M(prefix="/a"),), seen)
    assert not c.include_duplicate((M(prefix="/a"), H(present=True)), seen)
    assert c.include_duplicate((M(prefix="/a"),), seen)
    assert c.include_duplicate((M(prefix="/a"), H(present=True)), seen)
