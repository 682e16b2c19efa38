"""Every scenario of ../shared/scenarios and ../shared/scenarios-httpproxy in cluster mode,
against the real API server (the test id names the folder).

The runner is tests/e2e's, unchanged; only its object sink differs (harness/sinks.py):
objects are server-side-applied to the API server (Namespaces first), the harness writes
the Endpoints of its backends through the API as well, and statuses are read back from the
IngressRoutes and HTTPProxies (with their `conditions`) in the API server. HTTPProxy
scenarios need the projectcontour.io CRDs in manifests/. The controller runs with
`--kubeconfig` holding a token of the manifests' ServiceAccount, so each scenario also
proves that RBAC sufficient.

Isolation: one controller and one Envoy per scenario (as in folder mode); every object a
scenario created carries the harness's label and is deleted (and gone) before the next
scenario starts. Namespaces stay (nobody would finalize their deletion here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clusterkit import Identity, contour_identity  # noqa: F401 - fixture
from harness.certs import HarnessCA
from harness.kubeapi import EtcdKV, KubeApi
from harness.runner import ScenarioFailure, ScenarioRun
from harness.scenario import ScenarioError, load, scenario_files, scenario_id, scenarios_dirs
from harness.sinks import WATCHED_KINDS, ClusterSink, delete_owned, host_ip

SCENARIOS_DIRS = scenarios_dirs()
_FILES = [p for d in SCENARIOS_DIRS if d.is_dir() for p in scenario_files(d)]
_PARAMS = [pytest.param(p, id=scenario_id(p)) for p in _FILES] or [
    pytest.param(None, id="NO-SCENARIOS-FOUND")
]
KEEP = {("Service", "default", "kubernetes")}  # the API server's own


@pytest.fixture(scope="module")
def harness_ca() -> HarnessCA:
    return HarnessCA()


@pytest.fixture(scope="module")
def cluster_api(control_plane: Any, contour_identity: Identity) -> Iterator[KubeApi]:  # noqa: F811
    """Admin access with a clean slate: objects other tests left in watched kinds would
    take part in every scenario's DAG (a duplicate fqdn changes statuses)."""
    api = KubeApi(control_plane.server, control_plane.admin_token, str(control_plane.ca_file))
    for kind, version in WATCHED_KINDS:
        for o in api.list(kind, api_version=version, missing_ok=True):
            meta = o["metadata"]
            if (kind, meta.get("namespace", ""), meta["name"]) not in KEEP:
                api.delete(kind, meta.get("namespace", ""), meta["name"], version)
    yield api
    delete_owned(api)
    api.close()


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    t0 = time.monotonic()
    yield out
    total = time.monotonic() - t0
    slowest = sorted(out.items(), key=lambda kv: -kv[1])[:5]
    print(f"\ncluster scenarios: {len(out)} in {total:.1f}s; slowest: "
          + ", ".join(f"{k} {v:.1f}s" for k, v in slowest))


@pytest.mark.parametrize("scenario_file", _PARAMS)
def test_scenario_in_cluster(scenario_file: Path | None, harness_ca: HarnessCA,
                             cluster_api: KubeApi, contour_identity: Identity,  # noqa: F811
                             control_plane: Any, tmp_path: Path, timings: dict[str, float],
                             request: pytest.FixtureRequest) -> None:
    if scenario_file is None:
        pytest.fail(f"no NNN-*.yaml scenario files in {SCENARIOS_DIRS}", pytrace=False)
    t0 = time.monotonic()
    try:
        scenario = load(scenario_file)
    except ScenarioError as e:
        pytest.fail(f"scenario cannot be executed by the harness: {e}", pytrace=False)
    delete_owned(cluster_api)  # whatever an interrupted scenario may have left
    sink = ClusterSink(cluster_api, contour_identity.kubeconfig, host_ip(),
                       EtcdKV(f"http://127.0.0.1:{control_plane.etcd_port}"))
    run = ScenarioRun(scenario, harness_ca, tmp_path / "run", sink=sink)
    request.addfinalizer(run.close)
    failure = None
    try:
        run.run()
    except ScenarioError as e:
        failure = f"scenario cannot be executed by the harness: {e}"
    except ScenarioFailure as e:
        failure = str(e)
    finally:
        run.close()  # stops the controller and Envoy, deletes the objects
    timings[scenario_id(scenario_file)] = time.monotonic() - t0
    if failure:
        pytest.fail(failure, pytrace=False)
    notes = "".join(f" | NOTE: {n}" for n in sink.notes)
    print(f"{scenario_file.name}: {run.timings} | {'; '.join(run.log)}{notes}")
