"""MultiMap: the values of a key as a set, whether one (kept unboxed) or several."""

from __future__ import annotations

from controller.dag.multimap import MultiMap


def test_one_value_then_several_then_none() -> None:
    m: MultiMap[str, tuple[str, str]] = MultiMap()
    a, b = ("ns", "a"), ("ns", "b")
    m.add("x", a)
    m.add("x", a)
    assert m.get("x") == {a} and "x" in m and len(m) == 1
    m.add("x", b)
    assert m.get("x") == {a, b}
    m.discard("x", a)
    assert m.get("x") == {b}
    m.discard("x", a)  # absent: no change
    assert m.get("x") == {b}
    m.discard("x", b)
    assert m.get("x") == set() and "x" not in m and list(m) == []


def test_get_returns_a_copy() -> None:
    m: MultiMap[str, str] = MultiMap()
    m.add("k", "v1")
    m.add("k", "v2")
    m.get("k").add("v3")
    m.get("k").clear()
    assert m.get("k") == {"v1", "v2"}


def test_discarding_another_value_keeps_the_lone_one() -> None:
    m: MultiMap[str, str] = MultiMap()
    m.add("k", "v")
    m.discard("k", "w")
    m.discard("missing", "v")
    assert m.get("k") == {"v"}
