"""A rollout's state, recorded in one annotation on the root (so any process, a second
terminal or a CI job reads and continues it), the flags that set it up, and the JSON patch
that moves a root from one recorded state to the next atomically."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from kubectl_contour.errors import CheckFailed, UsageError
from kubectl_contour.queries.rollout_plan import Recipe, spec_at

ANNOTATION = "kubectl-contour.projectcontour.io/rollout"
ANNOTATION_PATH = "/metadata/annotations/" + ANNOTATION.replace("~", "~0").replace("/", "~1")
RUNNING, ABORTED, DONE = "running", "aborted", "done"
FORMAT_VERSION = 1

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


@dataclass(frozen=True, slots=True)
class Thresholds:
    interval: float
    """Seconds each step is watched before its gate is judged."""
    max_5xx: float
    """Highest upstream 5xx rate of TO, a fraction (0.01 is 1%)."""
    max_p99: float | None
    """Highest p99 of TO's upstream request time in ms; None: no latency gate."""
    min_requests: int
    """Requests TO must have served in a step before its gate is judged."""


@dataclass(frozen=True, slots=True)
class Rollout:
    """What the annotation records (its JSON, keys sorted)."""

    kind: str
    root: str
    source: str
    target: str
    steps: tuple[int, ...]
    step: int
    """Index into `steps` of the step applied last."""
    phase: str
    started: str
    updated: str
    thresholds: Thresholds
    base: dict[str, Any]
    """The root's spec before the rollout (what `undo` restores, byte for byte)."""
    recipe: Recipe
    reason: str = ""
    gates: tuple[dict[str, Any], ...] = ()
    """Each judged step's verdict and numbers (queries.rollout_gate.Verdict as data)."""

    @property
    def weight(self) -> int:
        """The percentage of traffic on TO in this state."""
        return 0 if self.phase == ABORTED else self.steps[self.step]

    @property
    def last(self) -> bool:
        return self.step == len(self.steps) - 1

    def spec(self) -> dict[str, Any]:
        """The root's spec this state implies (what the next patch `test`s)."""
        return spec_at(self.kind, self.base, self.recipe, self.weight)

    def moved(self, *, step: int | None = None, phase: str | None = None, reason: str = "",
              gate: dict[str, Any] | None = None) -> Rollout:
        """The next state: another step or phase, a reason, one more judged gate."""
        gates = (*self.gates, gate) if gate is not None else self.gates
        return replace(self, step=self.step if step is None else step,
                       phase=phase or self.phase, reason=reason, updated=now_text(),
                       gates=gates)


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(state: Rollout) -> str:
    return json.dumps({"version": FORMAT_VERSION, **asdict(state)}, sort_keys=True,
                      separators=(",", ":"))


def decode(text: str, *, where: str) -> Rollout:
    """The recorded state, or CheckFailed when the annotation is not one this plugin wrote."""
    try:
        data = json.loads(text)
        if data.pop("version") != FORMAT_VERSION:
            raise ValueError("unknown format version")
        thresholds = Thresholds(**data.pop("thresholds"))
        return Rollout(**{**data, "thresholds": thresholds, "steps": tuple(data["steps"]),
                          "gates": tuple(data.get("gates") or ())})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CheckFailed(f"the {ANNOTATION} annotation on {where} is not readable: {exc}",
                          hint="remove it with kubectl annotate ... "
                               f"{ANNOTATION}-") from None


def recorded(obj: dict[str, Any], *, where: str) -> Rollout | None:
    """The rollout recorded on a root object, if any."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
    return decode(text, where=where) if text else None


# ------------------------------------------------------------------------------ flags


def parse_steps(text: str) -> tuple[int, ...]:
    """`10,25,50,100`: percentages to TO, strictly increasing, the last one 100."""
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--steps {text!r}: percentages separated by commas, e.g. "
                         "10,25,50,100") from None
    if any(not 1 <= s <= 100 for s in steps) or list(steps) != sorted(set(steps)):
        raise UsageError(f"--steps {text!r}: each step between 1 and 100, increasing")
    if steps[-1] != 100:
        raise UsageError(f"--steps {text!r}: the last step must be 100 (TO takes over)")
    return steps


def parse_duration(text: str, *, flag: str) -> float:
    """`60s`, `1m`, `500ms`, `1.5s` or seconds → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"{flag} {text!r}: a duration such as 60s, 1m or 500ms")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_percent(text: str, *, flag: str) -> float:
    """`1%` (or `1`) → 0.01."""
    match = _PERCENT.match(text)
    if not match or float(match.group(1)) > 100:
        raise UsageError(f"{flag} {text!r}: a percentage such as 1% or 0.5%")
    return float(match.group(1)) / 100


def parse_thresholds(*, interval: str, max_5xx: str, max_p99: str,
                     min_requests: int) -> Thresholds:
    seconds = parse_duration(interval, flag="--interval")
    if seconds <= 0:
        raise UsageError("--interval must be longer than 0s")
    p99 = None if max_p99.strip().lower() in ("off", "none", "0") else \
        parse_duration(max_p99, flag="--max-p99") * 1000
    if min_requests < 1:
        raise UsageError("--min-requests must be at least 1")
    return Thresholds(seconds, parse_percent(max_5xx, flag="--max-5xx"), p99, min_requests)


# ------------------------------------------------------------------------------ the patch


def transition_ops(obj: dict[str, Any], expected_spec: dict[str, Any], new_spec: dict[str, Any],
                   new_state: str | None) -> list[dict[str, Any]]:
    """RFC 6902 ops moving `obj` (the root as read) to `new_spec` and the annotation to
    `new_state` (None: removed). `test` ops pin the spec the recorded state implies and the
    annotation as read, so a concurrent edit of either fails the whole patch."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    ops: list[dict[str, Any]] = [{"op": "test", "path": "/spec", "value": expected_spec}]
    if annotations is None:
        # a missing member `test`s equal to null (the API server's json-patch)
        ops.append({"op": "test", "path": "/metadata/annotations", "value": None})
    elif ANNOTATION in annotations:
        ops.append({"op": "test", "path": ANNOTATION_PATH, "value": annotations[ANNOTATION]})
    else:
        ops.append({"op": "test", "path": ANNOTATION_PATH, "value": None})
    ops.append({"op": "replace", "path": "/spec", "value": new_spec})
    return ops + annotation_ops(annotations, new_state)


def annotation_ops(annotations: dict[str, Any] | None,
                   new_state: str | None) -> list[dict[str, Any]]:
    if new_state is None:
        if set(annotations or {}) == {ANNOTATION}:
            # the annotations were ours alone: leave metadata as it was before the rollout
            return [{"op": "test", "path": "/metadata/annotations", "value": annotations},
                    {"op": "remove", "path": "/metadata/annotations"}]
        return [{"op": "remove", "path": ANNOTATION_PATH}] if annotations else []
    if annotations is None:
        return [{"op": "add", "path": "/metadata/annotations", "value": {ANNOTATION: new_state}}]
    return [{"op": "add", "path": ANNOTATION_PATH, "value": new_state}]
