"""The Gateway API against a real kube-apiserver: manifests/05-gateway-api-crds.yaml
installs with a plain `kubectl apply` (the CRDs fit its last-applied annotation), the API
server refuses exactly what the boundary's CEL twins refuse, and `contour serve` in
cluster mode, with the manifests' ServiceAccount, writes GatewayClass, Gateway and
HTTPRoute statuses through their status subresources (the API server validates them
against the CRDs' status schemas), once."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

_VALIDATION_TESTS = str(Path(__file__).resolve().parents[1] / "controller" / "validation")
if _VALIDATION_TESTS not in sys.path:
    sys.path.insert(0, _VALIDATION_TESTS)

from clusterkit import (  # noqa: E402
    MANIFESTS,
    ClusterController,
    Identity,
    contour_identity,  # noqa: F401 - fixture
    wait_for,
)
from gateway_cases import CASES  # noqa: E402

GATEWAY_CRDS = MANIFESTS / "05-gateway-api-crds.yaml"
NS = "gw-api"
V1 = "gateway.networking.k8s.io/v1"


@pytest.fixture(scope="module")
def gateway_crds(control_plane: Any) -> Any:
    proc = control_plane.kubectl("apply", "-f", str(GATEWAY_CRDS))
    assert "httproutes.gateway.networking.k8s.io" in proc.stdout
    control_plane.wait_established(*[f"crd/{p}.gateway.networking.k8s.io" for p in (
        "gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants",
        "tlsroutes")])
    control_plane.kubectl("create", "namespace", NS, check=False)
    control_plane.kubectl("create", "namespace", "gw-cel", check=False)
    return control_plane


def apply(cp: Any, *objs: dict[str, Any], check: bool = True) -> Any:
    doc = {"apiVersion": "v1", "kind": "List", "items": list(objs)}
    return cp.kubectl("apply", "-f", "-", input=json.dumps(doc), check=check)


def get(cp: Any, kind: str, name: str, ns: str | None = NS) -> dict[str, Any]:
    args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
    out: dict[str, Any] = json.loads(cp.kubectl(*args).stdout)
    return out


def route(name: str, backend: str, path: str = "/") -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "HTTPRoute", "metadata": {"name": name, "namespace": NS},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": [f"{name}.gw.test"],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": path}}],
                                "backendRefs": [{"name": backend, "port": 80}]}]}}


@pytest.mark.parametrize("obj, refusal", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_api_server_agrees_with_the_boundary_cel_twins(gateway_crds: Any,
                                                           obj: dict[str, Any],
                                                           refusal: str | None) -> None:
    """tests/controller/validation/test_validation_gateway.py checks the same cases at the
    folder boundary."""
    proc = gateway_crds.kubectl("apply", "--dry-run=server", "--validate=false", "-f", "-",
                                input=json.dumps(obj), check=False)
    if refusal is None:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0 and refusal in proc.stderr, proc.stderr


def _conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["reason"] for c in obj.get("conditions", [])}


def test_statuses_are_written_through_the_subresources(gateway_crds: Any,
                                                        contour_identity: Identity,  # noqa: F811
                                                        tmp_path: Path) -> None:
    cp = gateway_crds
    apply(cp,
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app", "namespace": NS},
           "spec": {"ports": [{"port": 80}]}},
          {"apiVersion": V1, "kind": "GatewayClass", "metadata": {"name": "contour"},
           "spec": {"controllerName": "projectcontour.io/gateway-controller"}},
          {"apiVersion": V1, "kind": "Gateway", "metadata": {"name": "gw", "namespace": NS},
           "spec": {"gatewayClassName": "contour", "listeners": [
               {"name": "http", "protocol": "HTTP", "port": 80},
               {"name": "odd", "protocol": "HTTP", "port": 8080}]}},
          route("good", "app"), route("broken", "missing"),
          {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "contour", "namespace": "heptio-contour"},
           "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]}})
    ctl = ClusterController(tmp_path / "ctl", contour_identity.kubeconfig)
    try:
        ctl.wait_healthy()

        def written() -> bool:
            routes = [get(cp, "httproute", n)["status"].get("parents") for n in ("good",
                                                                                "broken")]
            gw = get(cp, "gateway", "gw")["status"]
            return all(routes) and bool(gw.get("listeners"))

        wait_for("Gateway API statuses", written, 30)
        gc = get(cp, "gatewayclass", "contour", None)["status"]
        assert _conditions(gc)["Accepted"] == "Accepted"
        gw = get(cp, "gateway", "gw")
        assert _conditions(gw["status"]) == {"Accepted": "ListenersNotValid",
                                             "Programmed": "Programmed"}
        http, odd = gw["status"]["listeners"]
        assert (http["name"], http["attachedRoutes"]) == ("http", 2)
        assert _conditions(odd)["Accepted"] == "PortUnavailable"
        assert all(c["observedGeneration"] == gw["metadata"]["generation"]
                   for c in gw["status"]["conditions"])
        (good,) = get(cp, "httproute", "good")["status"]["parents"]
        assert good["controllerName"] == "projectcontour.io/gateway-controller"
        assert _conditions(good) == {"Accepted": "Accepted", "ResolvedRefs": "ResolvedRefs"}
        (broken,) = get(cp, "httproute", "broken")["status"]["parents"]
        assert _conditions(broken)["ResolvedRefs"] == "BackendNotFound"
        writes = ctl.status_writes()
        assert writes >= 4
        time.sleep(1.5)  # rebuilds after the watch shows our writes: nothing more to write
        assert ctl.status_writes() == writes
        # no load balancer here: the Envoy Service's clusterIP, until one reports in
        svc = get(cp, "service", "contour", "heptio-contour")
        assert gw["status"]["addresses"] == [{"type": "IPAddress",
                                              "value": svc["spec"]["clusterIP"]}]
        cp.kubectl("patch", "service", "contour", "-n", "heptio-contour",
                   "--subresource=status", "--type=merge", "-p", json.dumps(
                       {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}}}))
        wait_for("the load balancer's address", lambda: get(cp, "gateway", "gw")["status"][
            "addresses"] == [{"type": "IPAddress", "value": "192.0.2.7"}], 15)
    finally:
        ctl.stop()


def _owned_services(cp: Any) -> dict[str, dict[str, Any]]:
    """The isolated Gateways' Services, by the Gateway they are for."""
    out = json.loads(cp.kubectl("get", "services", "-n", "heptio-contour", "-l",
                                "projectcontour.io/gateway-service=true", "-o", "json").stdout)
    return {s["metadata"]["annotations"]["projectcontour.io/gateway"]: s for s in out["items"]}


def test_isolated_gateways_get_services_of_their_own(gateway_crds: Any,
                                                     contour_identity: Identity,  # noqa: F811
                                                     tmp_path: Path) -> None:
    """--gateway-listener-ports: with the manifests' RBAC, the controller creates a Service
    per Gateway next to the Envoy Service (its selector, a port per listener port mapped
    to the Gateway's Envoy port), the Gateway's address is that Service's, and a deleted
    Gateway's Service goes."""
    cp = gateway_crds
    gateways = [{"apiVersion": V1, "kind": "Gateway", "metadata": {"name": n, "namespace": NS},
                 "spec": {"gatewayClassName": "contour", "listeners": [
                     {"name": "http", "protocol": "HTTP", "port": 80}]}}
                for n in ("iso-a", "iso-b")]
    apply(cp, {"apiVersion": V1, "kind": "GatewayClass", "metadata": {"name": "contour"},
               "spec": {"controllerName": "projectcontour.io/gateway-controller"}},
          {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "contour", "namespace": "heptio-contour"},
           "spec": {"selector": {"app": "contour"}, "ports": [{"name": "http", "port": 80}]}},
          *gateways)
    ctl = ClusterController(tmp_path / "ctl", contour_identity.kubeconfig,
                            extra_args=["--gateway-listener-ports", "10000-10009"])
    try:
        ctl.wait_healthy()
        owned = wait_for("a Service per Gateway", lambda: (s := _owned_services(cp)) and {
            f"{NS}/iso-a", f"{NS}/iso-b"} <= s.keys() and s, 30)
        targets = set()
        for name in ("iso-a", "iso-b"):
            svc = owned[f"{NS}/{name}"]
            (port,) = svc["spec"]["ports"]
            assert svc["spec"]["selector"] == {"app": "contour"} and port["port"] == 80
            targets.add(port["targetPort"])
            wait_for(f"{name}'s address", lambda n=name, ip=svc["spec"]["clusterIP"]: get(
                cp, "gateway", n)["status"].get("addresses") == [
                    {"type": "IPAddress", "value": ip}], 30)
        assert len(targets) == 2 and targets <= set(range(10000, 10010))
        cp.kubectl("delete", "gateway", "iso-b", "-n", NS)
        wait_for("iso-b's Service deleted", lambda: set(_owned_services(cp)) & {
            f"{NS}/iso-a", f"{NS}/iso-b"} == {f"{NS}/iso-a"}, 30)
    finally:
        ctl.stop()
        cp.kubectl("delete", "gateway", "iso-a", "iso-b", "-n", NS, "--ignore-not-found")
