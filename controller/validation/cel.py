"""The CRDs' CEL rules (`x-kubernetes-validations`), checked at the boundary as the API
server checks them, after the schema.

There is no CEL interpreter here: each rule text the manifests use has its Python twin in
`PREDICATES`, and a rule without one is refused when the schemas are generated
(generate.py), so a new upstream rule cannot slip through unchecked. v1.33 has one rule
(UpstreamValidation: subjectNames[0] must equal subjectName).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from controller.validation.engine import format_path

Schema = dict[str, Any]
ITEMS = "*"  # a step into every item of an array
RULES_KEY = "x-kubernetes-validations"


def _subject_names_start_with_subject_name(value: dict[str, Any]) -> bool:
    names = value.get("subjectNames")
    if names is None:
        return True
    return isinstance(names, list) and bool(names) and names[0] == value.get("subjectName")


PREDICATES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "has(self.subjectNames) ? self.subjectNames[0] == self.subjectName : true":
        _subject_names_start_with_subject_name,
}


class UnknownRule(ValueError):
    """A CEL rule without a Python twin in PREDICATES."""


@dataclass(frozen=True)
class CelRule:
    """One rule at one place: `where` steps from the root (keys, or ITEMS)."""

    where: tuple[str, ...]
    rule: str
    message: str

    def problems(self, obj: object) -> list[str]:
        """`<path>: <message>` for every object at `where` the rule refuses."""
        check = PREDICATES[self.rule]
        return [f"{format_path(path)}: {self.message}"
                for path, value in _at(obj, self.where, ()) if not check(value)]


def rules_in(schema: Schema, where: tuple[str, ...] = ()) -> list[CelRule]:
    """Every CEL rule of a structural schema, outermost first. Raises UnknownRule."""
    out = []
    for entry in schema.get(RULES_KEY, []):
        if entry["rule"] not in PREDICATES:
            raise UnknownRule(f"{format_path(where)}: CEL rule {entry['rule']!r} has no "
                              "Python twin in controller/validation/cel.py")
        out.append(CelRule(where, entry["rule"], entry.get("message") or entry["rule"]))
    for key, child in sorted(schema.get("properties", {}).items()):
        out += rules_in(child, (*where, key))
    if isinstance(schema.get("items"), dict):
        out += rules_in(schema["items"], (*where, ITEMS))
    return out


def _at(value: object, steps: tuple[str, ...],
        path: tuple[object, ...]) -> Iterator[tuple[tuple[object, ...], dict[str, Any]]]:
    """The objects at `steps` under `value`, with their paths; absent places yield nothing."""
    if not steps:
        if isinstance(value, dict):
            yield path, value
        return
    step, rest = steps[0], steps[1:]
    if step == ITEMS:
        for i, item in enumerate(value if isinstance(value, list) else ()):
            yield from _at(item, rest, (*path, i))
    elif isinstance(value, dict) and step in value:
        yield from _at(value[step], rest, (*path, step))
