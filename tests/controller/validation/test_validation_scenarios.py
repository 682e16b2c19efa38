"""Every object of every shared scenario (`objects` and each step's `apply`) is admitted
unchanged: the scenarios are valid input. GENERATE secrets and external-backend
placeholders are substituted the way the e2e harness does it (tests/e2e/harness)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_E2E = str(Path(__file__).resolve().parents[2] / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)

from harness.certs import HarnessCA  # noqa: E402
from harness.scenario import (  # noqa: E402
    generate_secrets,
    load,
    parse_objects,
    resolve_placeholders,
    scenario_files,
    scenarios_dir,
)

from controller.validation import Admitted, admit  # noqa: E402

SCENARIOS = scenario_files(scenarios_dir())


@pytest.fixture(scope="module")
def ca() -> HarnessCA:
    return HarnessCA()


def scenario_objects(path: Path, ca: HarnessCA) -> list[dict[str, Any]]:
    """The objects the harness would write, with real TLS material and addresses."""
    scenario = load(path)
    batches = [scenario.objects]
    batches += [parse_objects(step["apply"]) for step in scenario.steps if "apply" in step]
    addresses = {ident: ("127.0.0.1", 40000 + i)
                 for i, ident in enumerate(scenario.external_backends)}  # fmt: skip
    out = []
    for batch in batches:
        out += resolve_placeholders(generate_secrets(batch, scenario.certs, ca), addresses)
    return out


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

from hp_scenarios import HP_SCENARIOS, REFUSED, refused_field  # noqa: E402
from hp_scenarios import scenario_objects as hp_scenario_objects  # noqa: E402

from controller.validation import Rejected  # noqa: E402


def test_there_are_httpproxy_scenarios() -> None:
    assert len(HP_SCENARIOS) > 40
    assert {stem for stem, _ in REFUSED} <= {p.stem for p in HP_SCENARIOS}


@pytest.mark.parametrize("path", HP_SCENARIOS, ids=lambda p: p.stem)
def test_httpproxy_scenario_objects_are_admitted_or_refused_as_v1_33(path: Path,
                                                                      ca: HarnessCA) -> None:
    """Admitted unchanged, except what v1.33's CRD schema refuses: rejected, naming the field."""
    objects = hp_scenario_objects(path, ca)
    assert objects
    for obj in objects:
        verdict = admit(obj)
        field = refused_field(path, obj)
        if field is None:
            assert verdict == Admitted(obj, ()), (obj.get("kind"), obj.get("metadata"), verdict)
        else:
            assert isinstance(verdict, Rejected), obj
            assert any(r.startswith(f"{field}: ") for r in verdict.reasons), verdict.reasons
