"""The Kubernetes structural dialect, converted (structural.py) and enforced through `admit`
on a CRD of the test's own that uses every construct the API server interprets."""

from __future__ import annotations

import pytest
from validationkit import DELETE, mutate

from controller.validation import Admitted, Rejected, admit, kinds
from controller.validation.structural import go_pattern, strict_schema

WIDGET_SCHEMA = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10, "format": "int32"},
            "ratio": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
            "note": {"type": "string", "nullable": True, "minLength": 2, "maxLength": 4},
            "mode": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "port": {"x-kubernetes-int-or-string": True},
            "digits": {"type": "string", "pattern": r"^\d+$"},
            "address": {"type": "string", "format": "ipv4"},
            "when": {"type": "string", "format": "date-time"},
            "blob": {"type": "string", "format": "byte"},
            "mac": {"type": "string", "format": "mac"},  # a format the API server ignores
            "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "integer"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"known": {"type": "boolean"}}},
            "empty": {"type": "object"},
            "inner": {"type": "object", "x-kubernetes-embedded-resource": True,
                      "properties": {"spec": {"type": "object"}}},
        }},
    },
}  # fmt: skip
ENTRY = {"apiVersion": "example.com/v1", "kind": "Widget", "scope": "Cluster",
         "schema": WIDGET_SCHEMA}  # fmt: skip


@pytest.fixture(autouse=True)
def widget_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(kinds.RULES, "Widget", kinds.crd_rules([ENTRY])["Widget"])


def widget() -> dict[str, object]:
    return {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": 3, "ratio": 0.5, "note": "abc", "mode": "a", "port": "http",
                 "digits": "42", "address": "10.1.1.1", "when": "2026-12-02T08:00:00Z",
                 "blob": "YWJj", "mac": "not checked", "tags": ["x"], "labels": {"a": 1},
                 "free": {"known": True, "anything": {"goes": [1]}}, "empty": {},
                 "inner": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {}}},
    }  # fmt: skip


def test_valid_widget_is_admitted_as_is() -> None:
    obj = widget()
    verdict = admit(obj)
    assert verdict == Admitted(obj, ()) and verdict.obj is obj


REJECTED = [
    ("size", 0, "must be at least 1"),
    ("size", 11, "must be at most 10"),
    ("size", 2**31, "must be at most 10"),
    ("ratio", 0, "must be greater than 0"),
    ("ratio", "x", "must be a number"),
    ("note", "a", "must be at least 2 characters long"),
    ("note", "abcde", "must be at most 4 characters long"),
    ("note", 1, "must be a string or null"),
    ("mode", "c", 'must be one of ["a", "b", null]'),
    ("port", 1.5, "must be an integer or a string"),
    ("port", True, "must be an integer or a string"),
    ("digits", "4a", r"must match pattern ^\d+$"),
    ("digits", "\u0664\u0662", r"must match pattern ^\d+$"),  # Go's \d is ASCII
    ("digits", "42\n", r"must match pattern ^\d+$"),  # Go's $ is the end of the text
    ("address", "1.2.3", "must be a valid ipv4"),
    ("when", "yesterday", "must be a valid date-time"),
    ("blob", "YWJ", "must be base64-encoded"),
    ("tags", [], "must have at least 1 items"),
    ("tags", ["a", "b", "c"], "must have at most 2 items"),
    ("labels", {"a": "1"}, None),  # reported at labels.a
    ("free", {"known": "yes"}, None),  # reported at free.known
    ("size", DELETE, "is required"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "reason"), REJECTED)
def test_dialect_rejections(field: str, value: object, reason: str | None) -> None:
    verdict = admit(mutate(widget(), ("spec", field), value))
    assert isinstance(verdict, Rejected)
    assert (verdict.kind, verdict.namespace, verdict.name) == ("Widget", "", "w")
    if reason is None:
        nested = {"labels": "spec.labels.a: must be an integer",
                  "free": "spec.free.known: must be a boolean"}[field]
        assert verdict.reasons == (nested,)
    else:
        assert verdict.reasons == (f"spec.{field}: {reason}",)


@pytest.mark.parametrize(("field", "value"), [
    ("note", None), ("mode", None), ("port", 8080), ("size", 10), ("free", {"x": None}),
])  # fmt: skip
def test_dialect_accepts(field: str, value: object) -> None:
    obj = mutate(widget(), ("spec", field), value)
    assert admit(obj) == Admitted(obj, ())


def test_pruning_follows_the_schema() -> None:
    obj = widget()
    spec = obj["spec"]
    assert isinstance(spec, dict)
    spec["empty"] = {"dropped": 1}  # an object without properties keeps nothing
    spec["free"]["extra"] = 1  # preserved
    spec["labels"]["b"] = 2  # a map keeps every key
    spec["inner"]["extra"] = 1  # embedded resource: apiVersion/kind/metadata implicit
    spec["ratio"] = None  # not nullable: pruned
    verdict = admit(obj)
    assert isinstance(verdict, Admitted)
    assert verdict.warnings == (
        "spec.empty.dropped: unknown field, pruned",
        "spec.inner.extra: unknown field, pruned",
        "spec.ratio: null, pruned",
    )
    assert verdict.obj["spec"]["free"]["extra"] == 1  # type: ignore[index]
    assert verdict.obj["spec"]["labels"] == {"a": 1, "b": 2}  # type: ignore[index]


def test_nan_is_not_null_where_null_is_allowed() -> None:
    verdict = admit(mutate(widget(), ("spec", "note"), float("nan")))
    assert isinstance(verdict, Rejected)
    assert verdict.reasons == ("spec.note: must be a string or null",)


def test_strict_schema_adds_what_the_api_server_implies() -> None:
    schema = strict_schema(WIDGET_SCHEMA)
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["empty"]["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]["free"]
    assert spec["properties"]["size"]["minimum"] == 1
    assert spec["properties"]["note"]["type"] == ["string", "null"]
    assert spec["properties"]["mode"]["enum"] == ["a", "b", None]
    assert spec["properties"]["port"]["type"] == ["integer", "string"]
    assert "format" not in spec["properties"]["mac"]
    assert set(schema["properties"]) >= {"apiVersion", "kind", "metadata"}


@pytest.mark.parametrize(("go", "rust"), [
    (r"^\d+$", "^[0-9]+$"),
    (r"[\d.]", "[0-9.]"),
    (r"\D\W\S", "[[:^digit:]][[:^word:]][[:^space:]]"),
    (r"[^\s]", r"[^\t\n\f\r ]"),
    (r"\w", "[0-9A-Za-z_]"),
    (r"\bx\B", r"(?-u:\b)x(?-u:\B)"),
    (r"[]\d]", r"[\]0-9]"),
    (r"[[:alpha:]\d]", "[[:alpha:]0-9]"),
    (r"\.\/\\", r"\.\/\\"),
    (r"^\/.*$", r"^\/.*$"),
])  # fmt: skip
def test_go_patterns_keep_their_ascii_classes(go: str, rust: str) -> None:
    assert go_pattern(go) == rust
