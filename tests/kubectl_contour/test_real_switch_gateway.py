"""`kubectl contour switch` of a weighted HTTPRoute backendRef against the real API server
through the real kubectl: the Gateway API CRDs from manifests/, an HTTPRoute splitting 90/10
between two Services; the switch moves the weight to green and back, a refusal writes
nothing, and a concurrent edit of the rule's backendRefs makes the `test` ops fail cleanly.

The objects are created by this module and deleted after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from real_world import ROOT, World

GATEWAY_CRDS = ROOT / "manifests" / "05-gateway-api-crds.yaml"
SPLIT = [{"name": "gw-blue", "port": 80, "weight": 90},
         {"name": "gw-green", "port": 80, "weight": 10}]


def service(world: World, name: str, backend: str) -> list[dict[str, Any]]:
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    eps = {"apiVersion": "v1", "kind": "Endpoints",
           "metadata": {"name": name, "namespace": "default"},
           "subsets": [{"addresses": [{"ip": world.ip}],
                        "ports": [{"port": world.backend_port(backend)}]}]}
    return [svc, eps]


def objects(world: World) -> list[dict[str, Any]]:
    gw = "gateway.networking.k8s.io/v1"
    return [
        *service(world, "gw-blue", "default/blue:80"),
        *service(world, "gw-green", "default/green:80"),
        {"apiVersion": gw, "kind": "GatewayClass", "metadata": {"name": "gw-plugin"},
         "spec": {"controllerName": "projectcontour.io/gateway-controller"}},
        {"apiVersion": gw, "kind": "Gateway",
         "metadata": {"name": "gw-plugin", "namespace": "default"},
         "spec": {"gatewayClassName": "gw-plugin",
                  "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}},
        {"apiVersion": gw, "kind": "HTTPRoute",
         "metadata": {"name": "gw-split", "namespace": "default"},
         "spec": {"parentRefs": [{"name": "gw-plugin"}], "hostnames": ["gw.example.com"],
                  "rules": [{"backendRefs": SPLIT}]}}]


@pytest.fixture(scope="module")
def gw_world(world: World) -> Iterator[World]:
    world.kubectl("apply", "--server-side", "-f", str(GATEWAY_CRDS))
    world.cp.wait_established("crd/httproutes.gateway.networking.k8s.io",
                              "crd/gateways.gateway.networking.k8s.io",
                              "crd/gatewayclasses.gateway.networking.k8s.io")
    objs = objects(world)
    world.apply(objs)
    try:
        yield world
    finally:
        for o in reversed(objs):
            world.kubectl("delete", o["kind"].lower(), o["metadata"]["name"],
                          *(["-n", "default"] if o["kind"] != "GatewayClass" else []),
                          "--ignore-not-found", check=False)


def refs(world: World) -> Any:
    return world.get_json("httproute", "gw-split", "-n", "default")["spec"]["rules"][0][
        "backendRefs"]


@pytest.fixture
def restore(gw_world: World) -> Iterator[None]:
    yield
    gw_world.kubectl("patch", "httproute", "gw-split", "-n", "default", "--type=json", "-p",
                     json.dumps([{"op": "replace", "path": "/spec/rules/0/backendRefs",
                                  "value": SPLIT}]))


def test_switch_moves_the_weight_and_back(gw_world: World, restore: None) -> None:
    dry = gw_world.contour("switch", "gw-blue", "gw-green", "--dry-run")
    assert dry.code == 0, str(dry)
    assert "gw-blue=90, gw-green=10  gw-blue=0, gw-green=100" in dry.out
    done = gw_world.contour("switch", "gw-blue", "gw-green", "--yes")
    assert done.code == 0, str(done)
    assert done.err.splitlines() == ["httproute default/gw-split patched"]
    assert refs(gw_world) == [{"group": "", "kind": "Service", "name": "gw-blue", "port": 80,
                               "weight": 0},
                              {"group": "", "kind": "Service", "name": "gw-green", "port": 80,
                               "weight": 100}]
    back = gw_world.contour("switch", "gw-green", "gw-blue", "--root",
                            "httproute/gw-split", "-y")
    assert back.code == 0, str(back)
    assert [(r["name"], r["weight"]) for r in refs(gw_world)] == [("gw-blue", 100),
                                                                  ("gw-green", 0)]


def test_a_refusal_writes_nothing(gw_world: World) -> None:
    before = gw_world.get_json("httproute", "gw-split", "-n", "default")["metadata"][
        "generation"]
    done = gw_world.contour("switch", "gw-blue", "gw-nope", "--yes")
    assert done.code == 3, str(done)
    assert "Service 'gw-nope' not found" in done.err
    after = gw_world.get_json("httproute", "gw-split", "-n", "default")["metadata"]
    assert after["generation"] == before


def test_conflict_when_the_rule_changed(gw_world: World, restore: None) -> None:
    from kubectl_contour.commands import switch as cmd
    from kubectl_contour.errors import Conflict
    from kubectl_contour.session import Options, Session

    session = Session(Options(kubeconfig=str(gw_world.kubeconfig)))
    plan, _ = cmd.prepare(session, source="gw-blue", target="gw-green", root="")
    gw_world.kubectl("patch", "httproute", "gw-split", "-n", "default", "--type=json", "-p",
                     json.dumps([{"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight",
                                  "value": 50}]))
    with pytest.raises(Conflict) as err:
        cmd.apply(session, plan)
    assert "HTTPRoute default/gw-split changed since it was read" in err.value.message
    assert [r["weight"] for r in refs(gw_world)] == [50, 10]
