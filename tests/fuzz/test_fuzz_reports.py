"""Invariant 5's checker, pure: what counts as reported, what as a false rejection, what as
left over after a removal, and the graph checks."""

from __future__ import annotations

import pytest
from fuzzing.cases import Expect, GroupCheck
from fuzzing.oracle import BAD, GOOD, UNPARSEABLE, WARN
from fuzzing.reports import (
    Reports,
    false_rejections,
    group_failures,
    is_reported,
    leftovers,
    softened,
    unreported,
)

SRC = "/src/b1/b1-0.yaml"


def expect(verdict: str, kind: str = "Service", identified: bool = True) -> Expect:
    return Expect(kind, "fz-a", "b1-0-svc", verdict, "test", identified, file="b1/b1-0.yaml")


def pages(rejected: list[dict] | None = None, warnings: list[dict] | None = None,
          errors: dict | None = None, statuses: list[dict] | None = None) -> Reports:
    r = Reports()
    r.read_pages(statuses or [], {"errors": errors or {}, "rejected": rejected or [],
                                  "warnings": warnings or []})
    return r


def row(kind: str = "Service", ns: str = "fz-a", name: str = "b1-0-svc",
        source: str = SRC) -> dict:
    return {"kind": kind, "namespace": ns, "name": name, "source": source, "reasons": ["x"]}


@pytest.mark.parametrize(("e", "r", "reported"), [
    (expect(BAD), pages(rejected=[row()]), True),
    (expect(BAD), pages(rejected=[row(name="other")]), False),
    (expect(BAD), pages(rejected=[row(source="/src/elsewhere.yaml")]), False),
    (expect(BAD, identified=False), pages(rejected=[row(name="['a']")]), True),
    (expect(BAD), pages(errors={SRC: "bad yaml"}), True),
    (expect(UNPARSEABLE), pages(errors={SRC: "too deep"}), True),
    (expect(UNPARSEABLE), pages(), False),
    (expect(WARN), pages(warnings=[row()]), True),
    (expect(WARN), pages(), False),
    (expect(BAD), pages(warnings=[row()]), True),  # softened: reported all the same
    (expect(UNPARSEABLE), pages(warnings=[row()]), False),
    (expect(BAD, kind="IngressRoute"), pages(statuses=[
        {"kind": "IngressRoute", "namespace": "fz-a", "name": "b1-0-svc",
         "currentStatus": "invalid", "description": "spec.routes: must be an array"}]), True),
    (expect(BAD, kind="IngressRoute"), pages(statuses=[
        {"kind": "IngressRoute", "namespace": "fz-a", "name": "b1-0-svc",
         "currentStatus": "valid", "description": "valid IngressRoute"}]), False),
    (expect(BAD), pages(), False),
], ids=lambda v: "" if not isinstance(v, bool) else str(v))
def test_is_reported(e: Expect, r: Reports, reported: bool) -> None:
    assert is_reported(e, SRC, r) is reported


def test_log_lines_report_too() -> None:
    r = pages()
    r.read_log(["2026 WARNING rejected Service fz-a/b1-0-svc from /src/b1/b1-0.yaml: "
                "spec.ports[0].port: must be <= 65535"])
    assert is_reported(expect(BAD), SRC, r)
    assert not is_reported(expect(BAD), "/src/b1/other.yaml", r)


def test_unreported_and_false_rejections() -> None:
    bad, good = expect(BAD), expect(GOOD)
    source_of = {bad.file: SRC}
    assert unreported([bad, good], source_of, pages()) == [bad]
    assert unreported([bad, good], source_of, pages(rejected=[row()])) == []
    assert false_rejections([good], source_of, pages(rejected=[row()])) == [good]
    assert false_rejections([good], source_of, pages()) == []


def test_softened_is_a_bad_object_only_warned_about() -> None:
    bad = expect(BAD)
    source_of = {bad.file: SRC}
    assert softened([bad], source_of, pages(warnings=[row()])) == [bad]
    assert softened([bad], source_of, pages(warnings=[row()], rejected=[row()])) == []


def test_leftovers_name_removed_batches_only() -> None:
    r = pages(rejected=[row(source="/src/b1/x.yaml")], errors={"/src/b2/y.yaml": "e"},
              statuses=[{"kind": "IngressRoute", "namespace": "fz-a", "name": "b1-3-root",
                         "currentStatus": "valid", "description": ""}])
    found = leftovers(r, ["b1-"], ["/src/b1/"])
    assert len(found) == 2 and all("b1" in f for f in found)
    assert leftovers(r, [], []) == []


def test_group_checks() -> None:
    keys = [("fz-a", "r"), ("fz-a", "a")]
    cycle = GroupCheck("invalid_any", keys, needle="delegation cycle", why="cycle")
    ok = pages(statuses=[{"kind": "IngressRoute", "namespace": "fz-a", "name": "a",
                          "currentStatus": "invalid",
                          "description": "route creates a delegation cycle: fz-a/a -> fz-a/a"}])
    assert group_failures([cycle], ok, set()) == []
    assert len(group_failures([cycle], pages(), set())) == 1
    stolen = GroupCheck("no_tls", fqdn="s.fuzz.test", why="stolen")
    assert group_failures([stolen], pages(), {"c0.control.fuzz"}) == []
    assert len(group_failures([stolen], pages(), {"s.fuzz.test"})) == 1
