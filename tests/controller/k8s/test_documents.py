"""Bounded parsing: every hostile file is a ParseError with a reason, never an exception that
escapes, and ordinary files parse as before."""

from __future__ import annotations

import pytest

from controller.k8s.documents import MAX_DOCUMENTS, ParseError, parse_documents

SVC = "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"


def _laughs(levels: int) -> str:
    """A YAML alias bomb: each level aliases the previous one ten times."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "json_file", "names"),
    [
        pytest.param(SVC % "a" + "---\n" + SVC % "b", False, ["a", "b"], id="multi-document"),
        pytest.param("---\n" + SVC % "a" + "---\n", False, ["a"], id="empty-documents-dropped"),
        pytest.param("kind: List\nitems:\n- " + (SVC % "a").replace("\n", "\n  "), False,
                     ["a"], id="list-flattened"),
        pytest.param('{"kind": "Service", "metadata": {"name": "j"}}', True, ["j"], id="json"),
        pytest.param("a: &x {name: n}\nmetadata: *x\n", False, ["n"], id="small-alias-ok"),
    ],
)
def test_parse_documents(text: str, json_file: bool, names: list[str]) -> None:
    docs = parse_documents(text, json_file=json_file)
    assert [d.get("metadata", {}).get("name") for d in docs] == names


@pytest.mark.parametrize(
    ("text", "json_file", "reason"),
    [
        pytest.param("kind: [unclosed", False, "expected", id="yaml-syntax"),
        pytest.param("{", True, "Expecting", id="json-syntax"),
        pytest.param("[" * 100_000 + "]" * 100_000, True, "nested too deeply", id="json-deep"),
        pytest.param('{"a": NaN}', True, "NaN is not a JSON value", id="json-nan"),
        pytest.param("[" * 100_000 + "]" * 100_000, False, "nesting depth", id="yaml-deep"),
        pytest.param(_laughs(9), False, "aliases expand", id="billion-laughs"),
        pytest.param("---\n".join(["a: 1\n"] * (MAX_DOCUMENTS + 1)), False, "documents",
                     id="too-many-documents"),
    ],
)
def test_hostile_files_are_parse_errors(text: str, json_file: bool, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_documents(text, json_file=json_file)


def test_a_parse_error_is_one_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_documents("a: [\n  b\n c: d", json_file=False)
    assert "\n" not in str(err.value)


def test_non_objects_are_documents_for_the_boundary_to_judge() -> None:
    """A document that is not an object is not a file-level error: the validation boundary
    rejects it by itself, and the file's other documents still count."""
    assert parse_documents("- a\n---\n" + SVC % "b", json_file=False)[0] == ["a"]
