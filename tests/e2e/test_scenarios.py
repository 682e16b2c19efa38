"""Every scenario in ../shared/scenarios, black-box: real controller, real Envoy, real backends.

Run:  .venv/bin/pytest tests/e2e/test_scenarios.py            (all, ~ see README of the runner)
      .venv/bin/pytest tests/e2e/test_scenarios.py -k 060      (one)
Env:  CONTOUR_SCENARIOS_DIR  other scenario directory
      CONTOUR_E2E_DEADLINE   convergence deadline in seconds (default 60)

A scenario the harness cannot execute FAILS; nothing is ever skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness.certs import HarnessCA
from harness.runner import ScenarioFailure, ScenarioRun
from harness.scenario import ScenarioError, load, scenario_files

SCENARIOS_DIR = Path(
    os.environ.get("CONTOUR_SCENARIOS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "scenarios"
).resolve()

_FILES = scenario_files(SCENARIOS_DIR) if SCENARIOS_DIR.is_dir() else []
_PARAMS = [pytest.param(p, id=p.name) for p in _FILES] or [
    pytest.param(None, id="NO-SCENARIOS-FOUND")
]


@pytest.mark.parametrize("scenario_file", _PARAMS)
def test_scenario(scenario_file: Path | None, harness_ca: HarnessCA, e2e_workdir: Path,
                  request: pytest.FixtureRequest) -> None:
    if scenario_file is None:
        pytest.fail(f"no NNN-*.yaml scenario files in {SCENARIOS_DIR} "
                    f"(exists: {SCENARIOS_DIR.exists()}); set CONTOUR_SCENARIOS_DIR", pytrace=False)
    failure = None
    try:
        scenario = load(scenario_file)
    except ScenarioError as e:
        failure = f"scenario cannot be executed by the harness: {e}"
    if failure:
        pytest.fail(failure, pytrace=False)
    run = ScenarioRun(scenario, harness_ca, e2e_workdir)
    request.addfinalizer(run.close)  # torn down even if the test body is interrupted
    try:
        run.run()
    except ScenarioError as e:
        failure = f"scenario cannot be executed by the harness: {e}"
    except ScenarioFailure as e:
        failure = str(e)
    finally:
        run.close()
    if failure:  # outside the except blocks: no chained traceback noise
        pytest.fail(failure, pytrace=False)
    print(f"{scenario_file.name}: {run.timings} | {'; '.join(run.log)}")


def test_scenario_directory_is_complete() -> None:
    """The directory exists, and every scenario file loads and validates."""
    assert SCENARIOS_DIR.is_dir(), f"scenario directory missing: {SCENARIOS_DIR}"
    assert _FILES, f"no scenarios in {SCENARIOS_DIR}"
    problems = []
    for f in _FILES:
        try:
            load(f)
        except ScenarioError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)
