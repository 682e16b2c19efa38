"""The harness of the official Gateway API conformance suite, and its CI subset
(scripts/gateway-conformance.sh) on a real node.

The harness test runs today: with `--accept-gatewayclass` standing in for a controller that
accepts the GatewayClass, the suite's setup deploys its base manifests, and every backend pod
in its namespaces must become Ready running image/echo-conformance (one image digest under
all the suite's echo-basic and coredns names). It stops the suite there (the setup would wait
for Gateways no controller serves yet).

The CI subset (scripts/gateway-conformance.sh
--subset: one test per feature area of the GATEWAY-HTTP, GATEWAY-TLS and GATEWAY-GRPC
profiles) against manifests/ on a real node, with the suite's backends played by
image/echo-conformance. Every test of the subset must pass, and the suite must write its
report.

In the default run (CI): 15 tests, every one must pass. Cost: a node, two image builds
(cached by their inputs) and the suite: ~2-4 min warm on 2 cores (2026-12-03: 124 s in
all, images cached)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

from nodekit import REPO, Node, build_image, wait_for

SCRIPT = REPO / "scripts" / "gateway-conformance.sh"
NAMESPACES = ("gateway-conformance-infra", "gateway-conformance-app-backend",
              "gateway-conformance-web-backend")
RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): TestConformance/([^/\s]+) ", re.M)

def subset() -> list[str]:
    """The SUBSET the script runs, read from the script itself (one list, one place)."""
    text = SCRIPT.read_text()
    body = re.search(r"^SUBSET=\(([^)]*)\)", text, re.M)
    assert body, "scripts/gateway-conformance.sh defines no SUBSET"
    return body.group(1).split()


def results(log: str) -> dict[str, str]:
    """Each top-level conformance test's outcome in go test -v output."""
    return {name: outcome for outcome, name in RESULT.findall(log)}


def test_results_parse_go_test_output() -> None:
    log = ("    --- PASS: TestConformance/HTTPRouteWeight (3.1s)\n"
           "        --- PASS: TestConformance/HTTPRouteWeight/inner (1.0s)\n"
           "    --- FAIL: TestConformance/TLSRouteSimpleSameNamespace (60.0s)\n")
    assert results(log) == {"HTTPRouteWeight": "PASS", "TLSRouteSimpleSameNamespace": "FAIL"}
    assert "HTTPRouteWeight" in subset() and len(subset()) >= 10


def test_the_subset_passes_on_the_node(tmp_path: Path) -> None:
    work = tmp_path / "run"
    proc = subprocess.run(["bash", str(SCRIPT), "--subset"], capture_output=True, text=True,
                          timeout=3600, env=dict(os.environ, CONFORMANCE_WORKDIR=str(work)))
    log_path = work / "suite.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    got = results(log)
    not_passed = {name: got.get(name, "not run") for name in subset() if got.get(name) != "PASS"}
    assert proc.returncode == 0 and not not_passed, (
        f"exit {proc.returncode}; not passed: {not_passed}\n{proc.stderr[-3000:]}\n"
        f"--- suite.log tail\n{log[-4000:]}")
    assert list(work.glob("gateway-api-*-subset-report.yaml")), "the suite wrote no report"


def _suite_pods(node: Node) -> list[dict[str, Any]]:
    """The pods of the suite's namespaces (setup creates them); empty until it has."""
    pods: list[dict[str, Any]] = []
    for ns in NAMESPACES:
        found = node.kubectl("get", "-n", ns, "pods", "-o", "json", check=False)
        pods += json.loads(found.stdout)["items"] if found.returncode == 0 else []
    return pods


def _all_ready(node: Node) -> list[dict[str, Any]]:
    """The suite's pods once each namespace has some and every one is Ready, else []."""
    pods = _suite_pods(node)
    namespaces = {p["metadata"]["namespace"] for p in pods}
    ready = all(any(c["type"] == "Ready" and c["status"] == "True"
                    for c in p.get("status", {}).get("conditions", [])) for p in pods)
    return pods if ready and namespaces == set(NAMESPACES) else []


def test_the_suites_backends_run_our_echo_image(tmp_path: Path) -> None:
    for image in ("contour", "echo-conformance"):  # built (cached) before the clock below
        build_image(image)
    work = tmp_path / "run"
    proc = subprocess.Popen(["bash", str(SCRIPT), "--subset", "--keep", "--accept-gatewayclass"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env=dict(os.environ, CONFORMANCE_WORKDIR=str(work)))
    node = Node(work / "node")
    try:
        pods = wait_for("every pod of the suite's namespaces Ready", lambda: _all_ready(node),
                        timeout=1200, interval=5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if (work / "node" / "state").exists():
            node.down()
    images = {c["image"] for p in pods for c in p["spec"]["containers"]}
    # one manifest digest under every name (imageID: `name@sha256:...` or `sha256:...`)
    digests = {s["imageID"].rpartition("sha256:")[2] for p in pods
               for s in p["status"]["containerStatuses"]}
    assert any("/gateway-api/echo-basic:" in i for i in images)
    assert any("/coredns/coredns:" in i for i in images)
    assert len(digests) == 1, f"the suite's images are not all ours: {digests}"
    assert len(pods) >= 15  # the base manifests' backends (v1.6.3: 22 pods)
