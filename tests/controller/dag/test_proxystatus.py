"""HTTPProxy status rows from merged findings (v1.33 proxystatus Mutate)."""

from __future__ import annotations

from controller.dag import proxystatus as ps
from controller.dag.model import SubCondition


def _record(*errors: str, warnings: tuple[str, ...] = (), vhost: str = "") -> ps.ProxyConditions:
    r = ps.ProxyConditions(vhost)
    for e in errors:
        r.error("T", "R", e)
    for w in warnings:
        r.warning("T", "W", w)
    return r


def test_merge_unions_in_first_seen_order() -> None:
    merged = ps.merge([_record("a", "b"), _record("b", "c", warnings=("w",), vhost="h")])
    assert [e.message for e in merged.errors] == ["a", "b", "c"]
    assert merged.warnings == [SubCondition("T", "W", "w")] and merged.vhost == "h"


def test_status_rows() -> None:
    valid = ps.status(("n", "a"), _record(warnings=("w",), vhost="h"))
    assert (valid.current, valid.description, valid.vhost, valid.kind) == (
        "valid", "Valid HTTPProxy", "h", "HTTPProxy")
    (cond,) = valid.conditions
    assert (cond.type, cond.status, cond.reason) == ("Valid", "True", "Valid")
    assert len(cond.warnings) == 1
    invalid = ps.status(("n", "a"), _record("x"))
    assert (invalid.current, invalid.description) == ("invalid", ps.ERROR_PRESENT)
    assert (invalid.conditions[0].status, invalid.conditions[0].reason) == ("False", "ErrorPresent")
    orphan = ps.orphaned(("n", "a"))
    assert (orphan.current, orphan.description) == ("orphaned", ps.ORPHANED_MESSAGE)


def test_long_messages_are_truncated() -> None:
    assert len(_record("x" * 40000).errors[0].message) == ps.MAX_MESSAGE


def test_with_error_accumulates_as_add_error_does() -> None:
    valid = ps.status(("default", "p"), ps.ProxyConditions("p.io"))
    valid = ps.with_error(valid, "A", "B", "one")
    twice = ps.with_error(valid, "C", "D", "two")
    assert [e.message for e in twice.conditions[0].errors] == ["one", "two"]
    assert (twice.current, twice.description, twice.vhost) == ("invalid", ps.ERROR_PRESENT,
                                                               "p.io")
