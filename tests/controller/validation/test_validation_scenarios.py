"""Every object of every shared scenario (`objects` and each step's `apply`) is admitted
unchanged: the scenarios are valid input. GENERATE secrets and external-backend
placeholders are substituted the way the e2e harness does it (scenariokit.py). Of the
HTTPProxy scenarios, what v1.33's CRD schema refuses is rejected, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenariokit import HP_SCENARIOS, REFUSED, SCENARIOS, HarnessCA, refused_field, scenario_objects

from controller.validation import Admitted, Rejected, admit


@pytest.fixture(scope="module")
def ca() -> HarnessCA:
    return HarnessCA()


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) > 50


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_object_is_admitted_unchanged(path: Path, ca: HarnessCA) -> None:
    objects = scenario_objects(path, ca)
    assert objects
    for obj in objects:
        verdict = admit(obj)
        assert verdict == Admitted(obj, ()), (obj.get("kind"), obj.get("metadata"), verdict)
        assert verdict.obj is obj


# -- the HTTPProxy scenarios ---------------------------------------------------------------


def test_there_are_httpproxy_scenarios() -> None:
    assert len(HP_SCENARIOS) > 40
    assert {stem for stem, _ in REFUSED} <= {p.stem for p in HP_SCENARIOS}


@pytest.mark.parametrize("path", HP_SCENARIOS, ids=lambda p: p.stem)
def test_httpproxy_scenario_objects_are_admitted_or_refused_as_v1_33(path: Path,
                                                                      ca: HarnessCA) -> None:
    """Admitted unchanged, except what v1.33's CRD schema refuses: rejected, naming the field."""
    objects = scenario_objects(path, ca)
    assert objects
    for obj in objects:
        verdict = admit(obj)
        field = refused_field(path, obj)
        if field is None:
            assert verdict == Admitted(obj, ()), (obj.get("kind"), obj.get("metadata"), verdict)
        else:
            assert isinstance(verdict, Rejected), obj
            assert any(r.startswith(f"{field}: ") for r in verdict.reasons), verdict.reasons
