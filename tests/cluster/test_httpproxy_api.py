"""The projectcontour.io CRDs against a real kube-apiserver: every HTTPProxy scenario's
objects are accepted except what Contour v1.33's schema refuses (the scenarios name it);
short names and printer columns; and the status writer writes an HTTPProxy's v1.33 status
through the status subresource with the manifests' ServiceAccount, and does nothing when
the status is already in place."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

_VALIDATION_TESTS = str(Path(__file__).resolve().parents[1] / "controller" / "validation")
if _VALIDATION_TESTS not in sys.path:
    sys.path.insert(0, _VALIDATION_TESTS)

from clusterkit import host_ip  # noqa: E402 (harness.sinks, through the kit that adds it)
from scenariokit import HP_SCENARIOS, HarnessCA, refused_field, scenario_objects  # noqa: E402

from controller.dag.model import Condition, Status, SubCondition  # noqa: E402
from controller.k8s.client import KubeClient, load_api_client  # noqa: E402
from controller.k8s.status import (  # noqa: E402
    SKIPPED,
    WRITTEN,
    StatusWriter,
    observed_status,
)

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
CRDS = ["httpproxies.projectcontour.io", "tlscertificatedelegations.projectcontour.io",
        "extensionservices.projectcontour.io"]
NS = "hp-api"


@pytest.fixture(scope="module")
def cp(control_plane: Any) -> Any:
    for f in ("00-common.yaml", "01-crds.yaml", "02-rbac.yaml"):
        control_plane.kubectl("apply", "-f", str(MANIFESTS / f))
    control_plane.wait_established(*[f"crd/{c}" for c in CRDS])
    control_plane.kubectl("create", "namespace", NS, check=False)
    return control_plane


def _ensure_namespaces(cp: Any, objects: list[dict[str, Any]]) -> None:
    names = {o["metadata"].get("namespace", "default") for o in objects
             if o.get("kind") != "Namespace"}
    for ns in sorted(names - {"default"}):
        cp.kubectl("create", "namespace", ns, check=False)


def _refusals(stderr: str) -> dict[str, str]:
    """HTTPProxy name → the API server's message (up to the next one), from `kubectl apply`."""
    pattern = r'HTTPProxy(?:\.projectcontour\.io)? "([^"]+)" is invalid: (.*?)(?=HTTPProxy|\Z)'
    return dict(re.findall(pattern, stderr, flags=re.S))


@pytest.fixture(scope="module")
def ca() -> HarnessCA:
    return HarnessCA()


@pytest.mark.parametrize("path", HP_SCENARIOS, ids=lambda p: p.stem)
def test_scenario_objects_are_accepted_or_refused_as_by_v1_33(cp: Any, ca: HarnessCA,
                                                               path: Path) -> None:
    objects = scenario_objects(path, ca, host_ip())
    _ensure_namespaces(cp, objects)
    doc = {"apiVersion": "v1", "kind": "List", "items": objects}
    # --validate=false: the API server, not kubectl, must be the one refusing
    proc = cp.kubectl("apply", "--dry-run=server", "--validate=false", "-f", "-",
                      input=json.dumps(doc), check=False)
    expected = {o["metadata"]["name"]: field for o in objects
                if (field := refused_field(path, o)) is not None}
    refused = _refusals(proc.stderr)
    assert sorted(refused) == sorted(expected), proc.stderr
    for name, field in expected.items():
        assert field in refused[name], refused[name]
    assert (proc.returncode == 0) is (not expected), proc.stderr


def proxy(name: str, fqdn: str) -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"virtualhost": {"fqdn": fqdn, "tls": {"secretName": "cert"}},
                     "routes": [{"services": [{"name": "app", "port": 80}]}]}}


def test_short_names(cp: Any) -> None:
    for short in ("proxy", "proxies", "tlscerts", "extensionservice", "extensionservices"):
        proc = cp.kubectl("get", short, "-n", NS, check=False)
        assert proc.returncode == 0, (short, proc.stderr)


def test_a_new_httpproxy_waits_for_the_controller(cp: Any) -> None:
    cp.kubectl("apply", "-f", "-", input=json.dumps(proxy("fresh", "fresh.example.com")))
    got = json.loads(cp.kubectl("get", "httpproxy", "fresh", "-n", NS, "-o", "json").stdout)
    assert got["status"] == {"currentStatus": "NotReconciled",
                             "description": "Waiting for controller"}


ERROR = "At least one error present, see Errors for details"


def invalid(name: str, message: str) -> Status:
    return Status(NS, name, "invalid", ERROR, kind="HTTPProxy", conditions=(Condition(
        "Valid", "False", "ErrorPresent", ERROR,
        errors=(SubCondition("IncludeError", "IncludeNotFound", message),)),))


def sa_client(cp: Any) -> KubeClient:
    token = cp.kubectl("create", "token", "contour", "-n", "heptio-contour",
                       "--duration=1h").stdout.strip()
    return KubeClient(load_api_client(kubeconfig=str(cp.token_kubeconfig(token, "hp-status"))))


def get(cp: Any, name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(
        cp.kubectl("get", "httpproxy", name, "-n", NS, "-o", "json").stdout)
    return out


def write(writer: StatusWriter, status: Status) -> list[str]:
    """One round of the writer's loop, on this thread: what each write did."""
    writer.submit((status,))
    with writer._wake:
        batch = writer._take()
    return [writer._write(s) for s in batch.values()]


def test_status_is_written_through_the_subresource_only_when_changed(cp: Any) -> None:
    cp.kubectl("apply", "-f", "-", input=json.dumps(proxy("written", "written.example.com")))
    writer = StatusWriter(sa_client(cp),
                          lambda kind, ns, name: observed_status(get(cp, name)), lambda: True)
    writer.now = lambda: "2026-01-01T00:00:00Z"
    assert write(writer, invalid("written", "include x/y not found")) == [WRITTEN]
    first = get(cp, "written")
    (cond,) = first["status"]["conditions"]
    assert (first["status"]["currentStatus"], first["status"]["description"]) == (
        "invalid", ERROR)
    assert cond["observedGeneration"] == first["metadata"]["generation"]
    assert cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert cond["errors"] == [{"type": "IncludeError", "status": "True",
                               "reason": "IncludeNotFound", "message": "include x/y not found"}]
    # v1.33's shape, kept by the real API server's structural schema
    assert "warnings" not in cond and first["status"]["loadBalancer"] == {}
    # unchanged: no write at all (the resourceVersion stays)
    writer.now = lambda: "2026-02-02T00:00:00Z"
    assert write(writer, invalid("written", "include x/y not found")) == [SKIPPED]
    assert get(cp, "written")["metadata"]["resourceVersion"] == first["metadata"][
        "resourceVersion"]
    # a new message under the same condition status keeps lastTransitionTime
    assert write(writer, invalid("written", "include x/z not found")) == [WRITTEN]
    (cond,) = get(cp, "written")["status"]["conditions"]
    assert cond["errors"][0]["message"] == "include x/z not found"
    assert cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_printer_columns(cp: Any) -> None:
    cp.kubectl("apply", "-f", "-", input=json.dumps(proxy("cols", "cols.example.com")))
    out = cp.kubectl("get", "httpproxies", "cols", "-n", NS).stdout
    header, row = out.splitlines()[:2]
    assert re.split(r"\s{2,}", header.strip()) == [
        "NAME", "FQDN", "TLS SECRET", "STATUS", "STATUS DESCRIPTION"]
    assert re.split(r"\s{2,}", row.strip()) == [
        "cols", "cols.example.com", "cert", "NotReconciled", "Waiting for controller"]


def test_extension_service_status_is_conditions_only(cp: Any) -> None:
    """What the builder decides for an ExtensionService (here: its Service is missing) is
    written as v1.33's `status.conditions`, with no currentStatus, and only once."""
    from controller.config import BuilderSettings
    from controller.dag.builder import build
    from controller.dag.store import ObjectStore

    obj = {"apiVersion": "projectcontour.io/v1alpha1", "kind": "ExtensionService",
           "metadata": {"name": "authz", "namespace": NS},
           "spec": {"services": [{"name": "authz", "port": 9000}]}}
    cp.kubectl("apply", "-f", "-", input=json.dumps(obj))
    store = ObjectStore(BuilderSettings())
    store.upsert(obj)
    (status,) = [s for s in build(store, BuilderSettings()).statuses
                 if s.kind == "ExtensionService"]

    def stored() -> dict[str, Any]:
        out: dict[str, Any] = json.loads(cp.kubectl(
            "get", "extensionservice", "authz", "-n", NS, "-o", "json").stdout)
        return out

    writer = StatusWriter(sa_client(cp), lambda kind, ns, name: observed_status(stored()),
                          lambda: True)
    assert write(writer, status) == [WRITTEN]
    got = stored()
    assert "currentStatus" not in got["status"]
    (cond,) = got["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == ("Valid", "False", "ErrorPresent")
    assert cond["errors"] == [{"type": "ServiceError", "status": "True",
                               "reason": "ServiceUnresolvedReference",
                               "message": f'unresolved service "{NS}/authz": service '
                                          f'"{NS}/authz" not found'}]
    assert write(writer, status) == [SKIPPED]
