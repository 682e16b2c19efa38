"""Every scenario in ../shared/scenarios (IngressRoute era) and ../shared/scenarios-httpproxy
(HTTPProxy), black-box: real controller, real Envoy, real backends, once in each route
layout of port 80 (`route-layout`, docs/decisions.md: `single`, the default, and `scoped`).
The test id names the layout and the folder: `single-scenarios/060-....yaml`,
`scoped-scenarios-httpproxy/200-....yaml`.

Run:  .venv/bin/pytest tests/e2e/test_scenarios.py                          (all)
      .venv/bin/pytest tests/e2e/test_scenarios.py -k 060                   (one)
      .venv/bin/pytest tests/e2e/test_scenarios.py -k scenarios-httpproxy   (one folder)
      .venv/bin/pytest tests/e2e/test_scenarios.py -k single                (one layout)
Env:  CONTOUR_SCENARIOS_DIR  other scenario folder(s), os.pathsep-separated
      CONTOUR_E2E_DEADLINE   convergence deadline in seconds (default 60)

A scenario the harness cannot execute FAILS; nothing is ever skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.certs import HarnessCA
from harness.controller import ROUTE_LAYOUT_ENV
from harness.runner import ScenarioFailure, ScenarioRun
from harness.scenario import ScenarioError, load, scenario_files, scenario_id, scenarios_dirs

SCENARIOS_DIRS = scenarios_dirs()
_FILES = [p for d in SCENARIOS_DIRS if d.is_dir() for p in scenario_files(d)]
_PARAMS = [pytest.param(p, id=scenario_id(p)) for p in _FILES] or [
    pytest.param(None, id="NO-SCENARIOS-FOUND")
]


@pytest.mark.parametrize("scenario_file", _PARAMS)
@pytest.mark.parametrize("route_layout", ["single", "scoped"])
def test_scenario(scenario_file: Path | None, route_layout: str, harness_ca: HarnessCA,
                  e2e_workdir: Path, request: pytest.FixtureRequest,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROUTE_LAYOUT_ENV, route_layout)  # read by the harness's controller
    if scenario_file is None:
        pytest.fail(f"no NNN-*.yaml scenario files in {SCENARIOS_DIRS}; "
                    f"set CONTOUR_SCENARIOS_DIR", pytrace=False)
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


@pytest.mark.parametrize("folder", SCENARIOS_DIRS, ids=lambda d: d.name)
def test_scenario_directory_is_complete(folder: Path) -> None:
    """The folder exists, and every scenario file in it loads and validates."""
    assert folder.is_dir(), f"scenario directory missing: {folder}"
    files = scenario_files(folder)
    assert files, f"no scenarios in {folder}"
    problems = []
    for f in files:
        try:
            load(f)
        except ScenarioError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)
