"""Status conditions in their API form (apis/projectcontour/v1/detailedconditions.go), the
one shape both /debug/status rows and the status subresource carry.

A condition comes in as any object with `type, status, reason, message, errors, warnings`
(each sub-condition with `type, status, reason, message`): the builder's
`controller.dag.model.Condition`, which this package may not import (tests/test_layering.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

MAX_MESSAGE = 32768
"""The CRD's maxLength of a message: a longer one would make the whole status write fail."""
TRANSITION = "lastTransitionTime"


class ObjectRecord(Protocol):
    """The object a status record is about (both writers' records have it)."""

    @property
    def kind(self) -> str: ...

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...


class SubConditionRecord(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def message(self) -> str: ...


class ConditionRecord(SubConditionRecord, Protocol):
    @property
    def errors(self) -> Sequence[SubConditionRecord]: ...

    @property
    def warnings(self) -> Sequence[SubConditionRecord]: ...


def truncated(message: str) -> str:
    """A message the CRD accepts: cut to MAX_MESSAGE characters, ending in "..." when cut
    (upstream's truncateLongMessage)."""
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def _sub(sub: SubConditionRecord) -> dict[str, str]:
    return {"type": sub.type, "status": sub.status, "reason": sub.reason,
            "message": truncated(sub.message)}


def condition_dict(cond: ConditionRecord, generation: int | None = None) -> dict[str, Any]:
    """One condition as the API (and /debug/status) carries it: `errors` and `warnings`
    only when not empty (v1.33's DetailedCondition marks both `omitempty`),
    `observedGeneration` when known."""
    out: dict[str, Any] = _sub(cond)
    if cond.errors:
        out["errors"] = [_sub(e) for e in cond.errors]
    if cond.warnings:
        out["warnings"] = [_sub(w) for w in cond.warnings]
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def comparable(conditions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Conditions as compared for "did the status change": without lastTransitionTime (set
    on every write), empty lists and absent ones alike (the API server drops empty lists
    of an `omitempty` field), sorted by type."""
    out = []
    for cond in conditions:
        if not isinstance(cond, Mapping):
            continue
        kept = {k: v for k, v in cond.items() if k != TRANSITION}
        for key in ("errors", "warnings"):
            kept[key] = list(kept.get(key) or [])
        out.append(kept)
    return sorted(out, key=lambda c: str(c.get("type", "")))


def with_transition_times(wanted: list[dict[str, Any]], observed: Iterable[Mapping[str, Any]],
                          now: str) -> list[dict[str, Any]]:
    """`wanted` with lastTransitionTime: kept from the observed condition of the same type
    when its status did not change, else `now` (metav1 semantics)."""
    seen = {c.get("type"): c for c in observed if isinstance(c, Mapping)}
    out = []
    for cond in wanted:
        before = seen.get(cond["type"]) or {}
        unchanged = before.get("status") == cond["status"] and bool(before.get(TRANSITION))
        out.append({**cond, TRANSITION: before[TRANSITION] if unchanged else now})
    return out
