"""The CI subset of the official Gateway API conformance suite (scripts/gateway-conformance.sh
--subset: one test per feature area of the GATEWAY-HTTP, GATEWAY-TLS and GATEWAY-GRPC
profiles) against manifests/ on a real node, with the suite's backends played by
image/echo-conformance. Every test of the subset must pass, and the suite must write its
report.

Opt-in for now (KC_GATEWAY_CONFORMANCE=1): the subset can only pass once the controller
serves Gateway API (issue 13, part 1); wiring it into the default run means deleting the
`skipif` on the node test. Cost: a node, two image builds (cached) and the suite: ~6.5 min
on main, where it fails after the suite's 180 s wait for an accepted GatewayClass."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from nodekit import REPO

SCRIPT = REPO / "scripts" / "gateway-conformance.sh"
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


@pytest.mark.skipif(os.environ.get("KC_GATEWAY_CONFORMANCE") != "1",
                    reason="opt-in until the controller serves Gateway API "
                    "(KC_GATEWAY_CONFORMANCE=1)")
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
