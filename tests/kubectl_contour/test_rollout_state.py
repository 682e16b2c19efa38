"""The rollout's recorded state (queries/rollout_state.py): flags, the annotation's JSON,
and the JSON patch of each transition."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_contour.errors import CheckFailed, UsageError
from kubectl_contour.queries.rollout_state import (
    ABORTED,
    ANNOTATION,
    ANNOTATION_PATH,
    RUNNING,
    Rollout,
    Thresholds,
    decode,
    encode,
    parse_duration,
    parse_percent,
    parse_steps,
    parse_thresholds,
    recorded,
    transition_ops,
)

BASE = {"routes": [{"match": "/", "delegate": {"name": "blue"}}]}
RECIPE = [{"index": 0, "final": {"name": "green"}, "routes": [
    {"route": {"match": "/"}, "from": [{"name": "blue", "port": 80}],
     "to": [{"name": "green", "port": 80}]}]}]


def state(**changes: Any) -> Rollout:
    values: dict[str, Any] = {
        "kind": "IngressRoute", "root": "default/root", "source": "default/blue",
        "target": "default/green", "steps": (10, 50, 100), "step": 1, "phase": RUNNING,
        "started": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:01:00Z",
        "thresholds": Thresholds(60.0, 0.01, 500.0, 100), "base": BASE, "recipe": RECIPE}
    return Rollout(**{**values, **changes})


@pytest.mark.parametrize(("text", "steps"), [
    ("10,25,50,100", (10, 25, 50, 100)), ("100", (100,)), (" 5, 100", (5, 100))])
def test_steps(text: str, steps: tuple[int, ...]) -> None:
    assert parse_steps(text) == steps


@pytest.mark.parametrize(("text", "message"), [
    ("10,50", "the last step must be 100"), ("50,10,100", "increasing"),
    ("10,10,100", "increasing"), ("0,100", "between 1 and 100"), ("a,100", "commas"),
    ("10,200", "between 1 and 100")])
def test_bad_steps(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_steps(text)
    assert message in err.value.message


@pytest.mark.parametrize(("text", "seconds"), [
    ("60s", 60.0), ("1m", 60.0), ("500ms", 0.5), ("1.5s", 1.5), ("2", 2.0), ("1h", 3600.0)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, flag="--interval") == seconds


@pytest.mark.parametrize(("text", "rate"), [("1%", 0.01), ("0.5%", 0.005), ("5", 0.05),
                                            ("100%", 1.0)])
def test_percent(text: str, rate: float) -> None:
    assert parse_percent(text, flag="--max-5xx") == pytest.approx(rate)


@pytest.mark.parametrize(("flags", "message"), [
    ({"interval": "soon"}, "--interval 'soon': a duration"),
    ({"interval": "0s"}, "--interval must be longer than 0s"),
    ({"max_5xx": "150%"}, "--max-5xx '150%': a percentage"),
    ({"max_p99": "fast"}, "--max-p99 'fast': a duration"),
    ({"min_requests": 0}, "--min-requests must be at least 1"),
])
def test_bad_thresholds(flags: dict[str, Any], message: str) -> None:
    values = {"interval": "60s", "max_5xx": "1%", "max_p99": "500ms", "min_requests": 100}
    with pytest.raises(UsageError) as err:
        parse_thresholds(**{**values, **flags})
    assert err.value.message == message + (" such as 60s, 1m or 500ms" if "duration" in message
                                           else " such as 1% or 0.5%" if "percentage" in
                                           message else "")


def test_thresholds() -> None:
    assert parse_thresholds(interval="1m", max_5xx="2%", max_p99="off", min_requests=5) == \
        Thresholds(60.0, 0.02, None, 5)
    assert parse_thresholds(interval="1s", max_5xx="1", max_p99="0.3s",
                            min_requests=1).max_p99 == pytest.approx(300.0)


def test_the_annotation_round_trips() -> None:
    s = state(gates=({"step": 1, "verdict": "pass"},), reason="why")
    text = encode(s)
    assert text.startswith('{"base":') and '"version":1' in text
    assert decode(text, where="x") == s
    assert recorded({"metadata": {"annotations": {ANNOTATION: text}}}, where="x") == s
    assert recorded({"metadata": {}}, where="x") is None


@pytest.mark.parametrize("text", ["not json", '{"version": 2}', '{"version": 1}', "[]"])
def test_an_unreadable_annotation_is_refused(text: str) -> None:
    with pytest.raises(CheckFailed) as err:
        decode(text, where="IngressRoute default/root")
    assert err.value.message.startswith(f"the {ANNOTATION} annotation on IngressRoute "
                                        "default/root is not readable: ")


def test_the_state_implies_its_spec() -> None:
    assert state().weight == 50
    assert state().spec()["routes"][0]["services"][1] == {"name": "green", "port": 80,
                                                          "weight": 50}
    assert state(phase=ABORTED).weight == 0 and state(phase=ABORTED).spec() == BASE
    assert state(step=2).spec() == {"routes": [{"match": "/", "delegate": {"name": "green"}}]}
    moved = state().moved(step=2, gate={"step": 2})
    assert (moved.step, moved.gates, moved.started) == (2, ({"step": 2},), state().started)


NEW = {"routes": []}


@pytest.mark.parametrize(("annotations", "new_state", "ops"), [
    pytest.param(None, "S", [
        {"op": "test", "path": "/metadata/annotations", "value": None},
        {"op": "add", "path": "/metadata/annotations", "value": {ANNOTATION: "S"}}],
        id="no-annotations-yet"),
    pytest.param({"other": "x"}, "S", [
        {"op": "test", "path": ANNOTATION_PATH, "value": None},
        {"op": "add", "path": ANNOTATION_PATH, "value": "S"}], id="others-kept"),
    pytest.param({ANNOTATION: "R", "other": "x"}, "S", [
        {"op": "test", "path": ANNOTATION_PATH, "value": "R"},
        {"op": "add", "path": ANNOTATION_PATH, "value": "S"}], id="ours-replaced"),
    pytest.param({ANNOTATION: "R"}, None, [
        {"op": "test", "path": ANNOTATION_PATH, "value": "R"},
        {"op": "test", "path": "/metadata/annotations", "value": {ANNOTATION: "R"}},
        {"op": "remove", "path": "/metadata/annotations"}], id="undo-ours-alone"),
    pytest.param({ANNOTATION: "R", "other": "x"}, None, [
        {"op": "test", "path": ANNOTATION_PATH, "value": "R"},
        {"op": "remove", "path": ANNOTATION_PATH}], id="undo-others-kept"),
])
def test_transition_ops(annotations: dict[str, str] | None, new_state: str | None,
                        ops: list[dict[str, Any]]) -> None:
    meta: dict[str, Any] = {"name": "root"}
    if annotations is not None:
        meta["annotations"] = annotations
    got = transition_ops({"metadata": meta, "spec": BASE}, BASE, NEW, new_state)
    assert got[0] == {"op": "test", "path": "/spec", "value": BASE}
    assert {"op": "replace", "path": "/spec", "value": NEW} in got
    assert [o for o in got if o["path"] != "/spec"] == ops
    assert ANNOTATION_PATH == "/metadata/annotations/kubectl-contour.projectcontour.io~1rollout"
