"""The objects of the shared scenarios (../shared/scenarios and scenarios-httpproxy):
`objects` and each step's `apply`, with GENERATE secrets and external-backend placeholders
substituted the way the e2e harness does it; and the HTTPProxy objects Contour v1.33's CRD
schema refuses (the scenarios say which: a root without fqdn, a port of -80, an upper-case
fqdn).

Read from the raw YAML, not through the harness's scenario loader, so the objects can be
checked without the harness knowing every HTTPProxy scenario key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

_E2E = str(Path(__file__).resolve().parents[2] / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)

from harness.certs import HarnessCA  # noqa: E402, F401 (for the tests that use the kit)
from harness.scenario import (  # noqa: E402
    generate_secrets,
    parse_objects,
    resolve_placeholders,
    scenario_files,
    scenarios_dir,
)

SCENARIOS = scenario_files(scenarios_dir())
HP_SCENARIOS = scenario_files(scenarios_dir().parent / "scenarios-httpproxy")

REFUSED = {
    ("217-hp-orphaned", "parent-no-fqdn"): "spec.virtualhost.fqdn",
    ("227-hp-service-port-out-of-range", "example"): "spec.routes[0].services[0].port",
    ("229-hp-duplicate-fqdn", "case-example"): "spec.virtualhost.fqdn",
}
"""(scenario, HTTPProxy name) → the field v1.33's schema refuses."""


def scenario_objects(path: Path, ca: HarnessCA, ip: str = "127.0.0.1") -> list[dict[str, Any]]:
    """Every object the scenario writes, in order, with real TLS material and addresses
    (external backends on `ip`: the API server refuses loopback Endpoints)."""
    data = yaml.safe_load(path.read_text())
    batches = [parse_objects(data.get("objects"))]
    batches += [parse_objects(s["apply"]) for s in data.get("steps") or [] if "apply" in s]
    external = data.get("external_backends") or []
    addresses = {ident: (ip, 40000 + i) for i, ident in enumerate(external)}
    certs = data.get("certs") or {}
    out: list[dict[str, Any]] = []
    for batch in batches:
        out += resolve_placeholders(generate_secrets(batch, certs, ca), addresses)
    return out


def refused_field(path: Path, obj: dict[str, Any]) -> str | None:
    """The field v1.33's schema refuses in this object of this scenario, if any."""
    if obj.get("kind") != "HTTPProxy":
        return None
    return REFUSED.get((path.stem, obj["metadata"]["name"]))
