"""Conditions in their API form: the dict shape, truncation, the "changed?" comparison that
ignores lastTransitionTime, and lastTransitionTime kept while a condition's status holds."""

from __future__ import annotations

import pytest

from controller.dag.model import Condition, SubCondition
from controller.k8s.conditions import (
    MAX_MESSAGE,
    comparable,
    condition_dict,
    truncated,
    with_transition_times,
)

INVALID = Condition("Valid", "False", "ErrorPresent", "At least one error present",
                    errors=(SubCondition("IncludeError", "IncludeNotFound", "not found"),))


def test_condition_dict_is_the_api_shape() -> None:
    assert condition_dict(INVALID, 3) == {
        "type": "Valid", "status": "False", "reason": "ErrorPresent",
        "message": "At least one error present",
        "errors": [{"type": "IncludeError", "status": "True", "reason": "IncludeNotFound",
                    "message": "not found"}],
        "observedGeneration": 3,
    }
    assert "observedGeneration" not in condition_dict(INVALID)


def test_condition_dict_omits_empty_lists_as_go_omitempty_does() -> None:
    valid = Condition("Valid", "True", "Valid", "Valid HTTPProxy")
    assert set(condition_dict(valid)) == {"type", "status", "reason", "message"}
    warned = Condition("Valid", "True", "Valid", "Valid HTTPProxy",
                       warnings=(SubCondition("SpecError", "IgnoredField", "x"),))
    assert "errors" not in condition_dict(warned) and condition_dict(warned)["warnings"]


@pytest.mark.parametrize(("length", "expected"), [
    (10, 10), (MAX_MESSAGE, MAX_MESSAGE), (MAX_MESSAGE + 1, MAX_MESSAGE)])
def test_truncated(length: int, expected: int) -> None:
    out = truncated("x" * length)
    assert len(out) == expected
    assert out.endswith("...") is (length > MAX_MESSAGE)


@pytest.mark.parametrize(("stored", "equal"), [
    ({"type": "Valid", "status": "False", "lastTransitionTime": "t"}, True),
    ({"type": "Valid", "status": "False", "errors": [], "warnings": []}, True),
    ({"type": "Valid", "status": "True"}, False),
    ({"type": "Valid", "status": "False", "observedGeneration": 2}, False),
])
def test_comparable_ignores_transition_time_and_empty_lists(stored, equal) -> None:
    wanted = {"type": "Valid", "status": "False", "errors": [], "warnings": []}
    assert (comparable([stored]) == comparable([wanted])) is equal


@pytest.mark.parametrize(("observed", "expected"), [
    ([], "now"),
    ([{"type": "Valid", "status": "False", "lastTransitionTime": "then"}], "then"),
    ([{"type": "Valid", "status": "True", "lastTransitionTime": "then"}], "now"),
    ([{"type": "Valid", "status": "False"}], "now"),
])
def test_transition_time_is_kept_while_the_status_holds(observed, expected) -> None:
    (out,) = with_transition_times([{"type": "Valid", "status": "False"}], observed, "now")
    assert out["lastTransitionTime"] == expected
