"""Invariant 5's checker, pure: what counts as reported (an HTTPProxy's status too), what as
a false rejection, what as left over after a removal, which objects a later file shadows,
and the graph checks."""

from __future__ import annotations

import pytest
from fuzzing.family import Expect, GroupCheck
from fuzzing.oracle import BAD, GOOD, UNPARSEABLE, WARN
from fuzzing.reports import (
    Reports,
    false_rejections,
    group_failures,
    is_reported,
    leftovers,
    shadowed,
    softened,
    status_problem,
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


def proxy_expect(paths: tuple[str, ...] = ("spec.routes[0].services[0].port",)) -> Expect:
    return Expect("HTTPProxy", "fz-a", "b1-0-root", BAD, "test", True, file="b1/b1-0.yaml",
                  paths=paths)


def proxy_row(current: str = "invalid", errors: list[dict] | None = None) -> dict:
    return {"kind": "HTTPProxy", "namespace": "fz-a", "name": "b1-0-root",
            "currentStatus": current, "description": "At least one error present",
            "conditions": [{"type": "Valid", "status": "False", "reason": "ErrorPresent",
                            "errors": errors or []}]}


SPEC_ERROR = {"type": "SpecError", "reason": "Invalid",
              "message": "spec.routes[0].services[0].port: must be less than 65536"}


@pytest.mark.parametrize(("rows", "problem"), [
    ([proxy_row(errors=[SPEC_ERROR])], None),
    ([proxy_row(errors=[{**SPEC_ERROR, "message": "(root): nested too deeply"}])], None),
    ([], "status missing, not invalid"),
    ([proxy_row("valid")], "status valid, not invalid"),
    ([proxy_row(errors=[{**SPEC_ERROR, "reason": "IncludeNotFound"}])], "no SpecError/Invalid"),
    ([proxy_row(errors=[{**SPEC_ERROR, "message": "spec.virtualhost.fqdn: must match"}])],
     "names none of"),
    ([{**proxy_row(errors=[SPEC_ERROR]), "kind": "IngressRoute"}], "status missing"),
])
def test_a_bad_httpproxy_needs_an_invalid_status_naming_the_path(rows: list[dict],
                                                                  problem: str | None) -> None:
    found = status_problem(proxy_expect(), SRC, pages(statuses=rows))
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_status_problem_spares_other_objects_and_unreadable_files() -> None:
    r = pages(errors={SRC: "bad yaml"})
    assert status_problem(proxy_expect(), SRC, r) is None
    assert status_problem(expect(BAD), SRC, pages()) is None
    good = proxy_expect()
    good.verdict = GOOD
    assert status_problem(good, SRC, pages()) is None


def test_httpproxy_and_ingressroute_statuses_are_apart() -> None:
    ir = {"kind": "IngressRoute", "namespace": "fz-a", "name": "b1-0-root",
          "currentStatus": "valid", "description": "valid IngressRoute"}
    r = pages(statuses=[ir, proxy_row(errors=[SPEC_ERROR])])
    assert is_reported(proxy_expect(), SRC, r)
    ir_expect = Expect("IngressRoute", "fz-a", "b1-0-root", BAD, "t", True, file="b1/b1-0.yaml")
    assert not is_reported(ir_expect, SRC, r)


def test_httpproxy_group_checks_read_the_conditions() -> None:
    cycle = GroupCheck("invalid_any", [("fz-a", "b1-0-root")], needle="include cycle",
                       why="cycle", kind="HTTPProxy")
    message = "include creates an include cycle: fz-a/b1-0-root -> fz-a/b1-0-root"
    r = pages(statuses=[proxy_row(errors=[{"type": "IncludeError",
                                           "reason": "IncludeCreatesCycle",
                                           "message": message}])])
    assert group_failures([cycle], r, set()) == []
    assert len(group_failures([cycle], pages(statuses=[proxy_row("valid")]), set())) == 1


def test_a_key_defined_again_by_a_later_file_is_shadowed() -> None:
    first = Expect("Service", "fz-b", "a" * 300, BAD, "t", True, file="b475/b475-10.yaml")
    second = Expect("Service", "fz-b", "a" * 300, BAD, "t", True, file="b475/b475-25.yaml")
    other = Expect("Service", "fz-b", "x", BAD, "t", True, file="b475/b475-10.yaml")
    source_of = {e.file: f"/src/{e.file}" for e in (first, second)}
    assert shadowed([first, second, other], source_of) == {id(first)}
    # path order, as the folder source's: b9/ sorts after b10/
    nine = Expect("Service", "fz-b", "y", BAD, "t", True, file="b9/x.yaml")
    ten = Expect("Service", "fz-b", "y", BAD, "t", True, file="b10/x.yaml")
    source_of = {e.file: f"/src/{e.file}" for e in (nine, ten)}
    assert shadowed([ten, nine], source_of) == {id(ten)}
    r = pages(rejected=[row(ns="fz-b", name="a" * 300, source="/src/b475/b475-25.yaml")])
    assert not is_reported(first, "/src/b475/b475-10.yaml", r)  # why it must be spared
