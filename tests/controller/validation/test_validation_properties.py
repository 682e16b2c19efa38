"""Properties of `admit` (hypothesis): it never raises, for arbitrary JSON/YAML values and
for mutations of valid objects of every kind; its verdicts are well formed; the input is
never changed; an admitted object is a fixed point (admitted again as is, no warnings)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validationkit import VALID

from controller.validation import Admitted, Rejected, admit

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["", "/", "a.b", "10.0.0.1", "::1", "80", "TCP", "Prefix", "YQ=="])
)  # fmt: skip
YAML_KEYS = st.text(max_size=8) | st.integers() | st.none() | st.booleans()


def _containers(keys: st.SearchStrategy[object]):  # type: ignore[no-untyped-def]
    return lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)


JSON_VALUES = st.recursive(SCALARS, _containers(st.text(max_size=8)), max_leaves=25)
YAML_VALUES = st.recursive(SCALARS, _containers(YAML_KEYS), max_leaves=25)
KINDS = st.sampled_from(sorted(VALID))


def _fingerprint(obj: object) -> str | None:
    """repr(obj), or None for what repr cannot print (100k levels deep)."""
    try:
        return repr(obj)
    except RecursionError:
        return None


def check_verdict(obj: object) -> None:
    """The properties every verdict has (see the module docstring)."""
    before = _fingerprint(obj)
    verdict = admit(obj)
    assert _fingerprint(obj) == before, "admit changed its input"
    if isinstance(verdict, Rejected):
        assert verdict.reasons and list(verdict.reasons) == sorted(verdict.reasons)
        assert all(": " in r and "internal error" not in r for r in verdict.reasons), verdict
        assert all(isinstance(f, str) for f in (verdict.kind, verdict.namespace, verdict.name))
        return
    assert isinstance(verdict, Admitted)
    assert list(verdict.warnings) == sorted(verdict.warnings)
    assert (verdict.obj is obj) == (not verdict.warnings)
    again = admit(verdict.obj)
    assert isinstance(again, Admitted) and again.obj is verdict.obj and not again.warnings


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_value(value: object) -> None:
    check_verdict(value)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_VALUES)
def test_any_yaml_value_in_an_object(value: object) -> None:
    for kind in ("IngressRoute", "Service", "Endpoints"):
        check_verdict({**VALID[kind](), "spec": value, "subsets": value})
        check_verdict({"apiVersion": "v1", "kind": kind, "metadata": value})


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `node` (the root excluded)."""
    out = []
    if isinstance(node, dict):
        items = list(node.items())
    else:
        items = list(enumerate(node)) if isinstance(node, list) else []
    for key, value in items:
        out.append((*path, key))
        out.extend(_paths(value, (*path, key)))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> object:
    """A valid object of some kind with one to three values replaced, removed, or given an
    unknown sibling."""
    obj = VALID[draw(KINDS)]()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(obj)))
        parent: Any = obj
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "remove", "sibling"]))
        if action == "replace":
            parent[path[-1]] = draw(YAML_VALUES)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(YAML_KEYS)] = draw(YAML_VALUES)
        else:
            parent.append(draw(YAML_VALUES))
        if not _paths(obj):
            break
    return obj


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_of_valid_objects(obj: object) -> None:
    check_verdict(obj)


def test_valid_objects_are_admitted_as_they_are() -> None:
    for make in VALID.values():
        obj = make()
        assert admit(obj) == Admitted(obj, ()), admit(obj)


def test_odd_python_values_yaml_can_produce() -> None:
    import datetime

    cyclic: list[object] = []
    cyclic.append(cyclic)
    deep: dict[str, object] = {}
    for _ in range(100_000):
        deep = {"a": deep}
    odd = [datetime.date(2026, 1, 1), datetime.datetime(2026, 1, 1), b"bytes", cyclic, deep,
           {1: "int key"}, {None: "null key"}, {(1, 2): "tuple key"}, float("nan")]  # fmt: skip
    for value in odd:
        for kind in sorted(VALID):
            base = VALID[kind]()
            check_verdict({**base, "spec": value})
            check_verdict({**base, "metadata": {**base["metadata"], "annotations": {"a": value}}})
            check_verdict({**base, "unknownField": value})
            check_verdict(copy.copy(value))
