"""The fuzzer's objects through the real API server: what it admits must get the same verdict
from the controller in cluster mode as from a folder (issue 7: "the same hostile objects
give the same verdicts from a folder and from the API server, wherever the API server
admits them"), and must not crash it or make it log a bug.

Seeded batches of tests/fuzz/fuzzing are applied object by object (server-side apply with
the admin token; a refusal is fine and counted). Then one controller runs with
`--kubeconfig` (the manifests' ServiceAccount) and one with `--source-dir` holding the very
objects the API server admitted, as they were written. A verdict is `rejected` (in
/debug/sources), an IngressRoute's status, or `admitted`. A real Envoy on the cluster-mode
controller must acknowledge everything (no NACK, no update_rejected). Control-vhost traffic
is the folder fuzzer's (tests/fuzz). Endpoints point at a closed port of the run's own netns
test host (the API server refuses the folder fuzzer's loopback address).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clusterkit import ClusterController, Identity, contour_identity, ensure_namespace  # noqa: F401
from harness.controller import Controller, Ports, finish_bootstrap, start_bootstrap
from harness.envoy import Envoy
from harness.kubeapi import RESOURCES, KubeApi, KubeApiError
from harness.netns import backend_network

_FUZZ = str(Path(__file__).resolve().parents[1] / "fuzz")
if _FUZZ not in sys.path:
    sys.path.insert(0, _FUZZ)

from fuzzing.cases import Expect, make_batch  # noqa: E402
from fuzzing.valid import FUZZ_NAMESPACES, moved_to  # noqa: E402
from fuzzing.world import envoy_rejections, nacks  # noqa: E402

SEED = 7
BATCHES, BATCH_OBJECTS = 8, 100
Key = tuple[str, str, str]


def sendable(e: Expect) -> bool:
    """An object the harness can address in the API at all (a kind it knows, a name and an
    apiVersion that need no URL quoting); anything else is left to the folder fuzzer."""
    if not e.identified or e.kind not in RESOURCES or not isinstance(e.obj, dict):
        return False
    version = e.obj.get("apiVersion", "v1")
    if not isinstance(version, str) or urllib.parse.quote(version, safe="/") != version:
        return False  # the HTTP client refuses it (a control character) before sending
    return all(urllib.parse.quote(v, safe="") == v and v for v in (e.name, e.namespace or "x"))


@pytest.fixture
def api(control_plane: Any, contour_identity: Identity) -> Iterator[KubeApi]:  # noqa: F811
    a = KubeApi(control_plane.server, control_plane.admin_token, str(control_plane.ca_file))
    for ns in FUZZ_NAMESPACES:
        ensure_namespace(a, ns)
    yield a
    a.close()


def apply_all(api: KubeApi, expects: list[Expect]) -> tuple[list[Expect], Counter[str]]:
    """Apply each object; the admitted ones, and why the others were not."""
    admitted, refused = [], Counter[str]()
    for e in expects:
        if not sendable(e):
            refused["not addressable"] += 1
            continue
        try:
            api.apply(copy.deepcopy(e.obj))
        except KubeApiError as err:
            refused[f"HTTP {err.status}"] += 1
            if err.status >= 500 and refused[f"HTTP {err.status}"] <= 3:
                print(f"API server HTTP {err.status} for {e.kind} {e.namespace}/{e.name} "
                      f"({e.why[:80]}): {str(err)[:300]}")
        except (ValueError, KeyError, TypeError) as err:
            refused[type(err).__name__] += 1
        else:
            admitted.append(e)
    return admitted, refused


def verdicts(debug: Any, keys: set[Key]) -> dict[Key, str]:
    rejected = {(r["kind"], r["namespace"], r["name"]) for r in debug("/debug/sources")
                .get("rejected", [])}
    statuses = {("IngressRoute", r["namespace"], r["name"]): r["currentStatus"]
                for r in debug("/debug/status")}
    return {k: "rejected" if k in rejected else statuses.get(k, "admitted") for k in keys}


def folder_debug(workdir: Path, admitted: list[Expect]) -> Controller:
    source = workdir / "objects"
    source.mkdir(parents=True)
    for i, e in enumerate(admitted):
        (source / f"{i:04d}.json").write_text(json.dumps(e.obj))
    c = Controller(workdir, source, Ports.allocate(), {})
    c.wait_healthy(60)
    return c


def get_json(port: int, path: str) -> Any:
    from harness.controller import http_get

    status, body = http_get(port, path, timeout=10)
    assert status == 200, f"GET {path}: HTTP {status}"
    return json.loads(body)


def test_same_verdicts_from_the_api_server_and_a_folder(
        api: KubeApi, contour_identity: Identity, tmp_path: Path) -> None:  # noqa: F811
    # the API server refuses loopback Endpoints: point them at our own test host instead
    # (nothing listens on the port there either), never anywhere else
    dead = backend_network().backend_ip
    expects = [dataclasses.replace(e, obj=moved_to(e.obj, dead))
               for i in range(BATCHES) for e in make_batch(SEED, i, BATCH_OBJECTS).expects]
    admitted, refused = apply_all(api, expects)
    keys = {(e.kind, e.namespace, e.name) for e in admitted}
    try:
        cluster = ClusterController(tmp_path / "cluster", contour_identity.kubeconfig)
        cluster.wait_healthy(90)
        envoy = start_envoy(tmp_path / "envoy", cluster.ports)
        time.sleep(1)  # the watch has delivered the last applies by now
        in_cluster = verdicts(lambda p: get_json(cluster.ports.debug, p), keys)
        rejected_pushes = envoy_pushes_rejected(envoy, cluster.ports)
        folder = folder_debug(tmp_path / "folder", admitted)
        from_folder = verdicts(lambda p: get_json(folder.ports.debug, p), keys)
        alive = {"cluster": cluster.proc.alive(), "folder": folder.proc.alive()}
        bugs = [*(line for line in _log(cluster) if "BUG:" in line), *folder.bug_lines()]
        envoy.stop()
        cluster.stop()
        folder.proc.stop()
    finally:
        for e in admitted:
            api.delete(e.kind, e.namespace, e.name)
    print(f"objects {len(expects)}, admitted {len(admitted)}, refused {dict(refused)}, "
          f"verdicts {Counter(in_cluster.values())}")
    assert len(admitted) >= 100, f"the API server admitted only {len(admitted)} objects"
    assert all(alive.values()), alive
    assert not bugs, "\n".join(bugs[:20])
    assert not rejected_pushes, "Envoy rejected pushes:\n" + "\n".join(rejected_pushes)
    by_key = {(e.kind, e.namespace, e.name): e for e in admitted}
    differ = [f"{k[0]} {k[1]}/{k[2]}: cluster {in_cluster[k]}, folder {from_folder[k]} "
              f"({by_key[k].why}; file {by_key[k].file} of seed {SEED})"
              for k in sorted(keys) if in_cluster[k] != from_folder[k]]
    assert not differ, f"{len(differ)} of {len(keys)} verdicts differ:\n" + "\n".join(differ[:40])


def start_envoy(workdir: Path, ports: Ports) -> Envoy:
    workdir.mkdir(parents=True)
    boot = workdir / "envoy.json"
    finish_bootstrap(start_bootstrap(boot, ports, workdir / "bootstrap.log"), boot)
    return Envoy(workdir, boot, "fuzz-cluster", ports.admin)


def envoy_pushes_rejected(envoy: Envoy, ports: Ports, timeout: float = 30) -> list[str]:
    """Once Envoy has acknowledged every type the controller sent, the NACKs of
    /debug/xds and Envoy's own update_rejected counters (both must be empty)."""
    deadline = time.monotonic() + timeout
    while True:
        page = get_json(ports.debug, "/debug/xds")
        nodes = [n for n in page.get("nodes", []) if n.get("node") == "fuzz-cluster"]
        settled = nodes and all(t.get("sent") == t.get("acked") or t.get("nack")
                                for t in nodes[0].get("types", {}).values())
        if settled or time.monotonic() > deadline:
            break
        assert envoy.proc.alive(), envoy.proc.tail(20)
        time.sleep(0.2)
    assert nodes, f"Envoy never connected to the controller:\n{envoy.proc.tail(20)}"
    return [line for _, line in nacks(page)] + [
        f"{k}: {v}" for k, v in sorted(envoy_rejections(envoy).items())]


def _log(c: ClusterController) -> list[str]:
    return c.proc.log_path.read_text(errors="replace").splitlines()
