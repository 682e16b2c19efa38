"""How many status writes the controller makes, counted by the real API server
(`apiserver_request_total` of the status subresource) and seen by a watch of our own (which
states each object went through), with a real Envoy connected.

* a first install writes each HTTPProxy's and IngressRoute's status once (the HTTPProxy
  one when its Envoy serves it), and no Ingress status;
* a restarted controller, whose Envoy reconnects to it, finds every status as it would
  write it: no write at all;
* a change to one object writes that object's status only, once.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clusterkit import (
    ClusterController,
    Identity,
    World,
    admin_api,  # noqa: F401 - fixture
    contour_identity,  # noqa: F401 - fixture
    delete_namespace_objects,
    ensure_namespace,
    ingressroute,
    wait_for,
)
from harness.kubeapi import KubeApi
from prometheus_client.parser import text_string_to_metric_families

NS = "status-writes"
ROOTS = 40
HOST = "r{}.writes.test"
STATUS_RESOURCES = ("httpproxies", "ingressroutes", "ingresses")


def root(i: int) -> dict[str, Any]:
    """Even roots include a child that holds the route; odd ones route themselves."""
    spec: dict[str, Any] = {"virtualhost": {"fqdn": HOST.format(i)}}
    if i % 2 == 0:
        spec["includes"] = [{"name": f"c{i}", "conditions": [{"prefix": "/"}]}]
    else:
        spec["routes"] = [{"services": [{"name": "app", "port": 80}]}]
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": f"r{i}", "namespace": NS}, "spec": spec}


def child(i: int, prefix: str = "") -> dict[str, Any]:
    route: dict[str, Any] = {"services": [{"name": "app", "port": 80}]}
    if prefix:
        route["pathRewritePolicy"] = {"replacePrefix": [{"replacement": prefix}]}
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": f"c{i}", "namespace": NS}, "spec": {"routes": [route]}}


def objects() -> list[dict[str, Any]]:
    broken = root(98)
    broken["metadata"]["name"] = "broken"
    broken["spec"]["virtualhost"]["fqdn"] = "broken.writes.test"
    broken["spec"]["includes"][0]["name"] = "missing"
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "ing", "namespace": NS},
               "spec": {"rules": [{"host": "ing.writes.test", "http": {"paths": [
                   {"path": "/", "pathType": "Prefix", "backend": {
                       "service": {"name": "app", "port": {"number": 80}}}}]}}]}}
    return [*(root(i) for i in range(ROOTS)), *(child(i) for i in range(0, ROOTS, 2)),
            broken, ingressroute(NS, "ir", "ir.writes.test", "app"), ingress]


def status_writes(api: KubeApi) -> dict[str, int]:
    """resource → status-subresource writes the API server has served (any client)."""
    _, body = api.call("GET", "/metrics")
    out = dict.fromkeys(STATUS_RESOURCES, 0)
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            lb = s.labels
            if (s.name == "apiserver_request_total" and lb.get("subresource") == "status"
                    and lb.get("resource") in out and lb.get("verb") in ("PATCH", "PUT")):
                out[lb["resource"]] += int(s.value)
    return out


class StatusWatch:
    """Every status each HTTPProxy of NS was seen with (a watch from `resource_version`):
    name → [(currentStatus, {condition type: (status, reason, observedGeneration)})]."""

    def __init__(self, api: KubeApi, resource_version: str) -> None:
        self.seen: dict[str, list[Any]] = {}
        self._last: dict[str, Any] = {}
        url = urllib.parse.urlsplit(api.server)
        ctx = ssl.create_default_context(cafile=api.ca_file)
        self._conn = http.client.HTTPSConnection(url.hostname or "", url.port, context=ctx,
                                                 timeout=120)
        query = urllib.parse.urlencode({"watch": "1", "resourceVersion": resource_version})
        self._conn.request("GET", f"/apis/projectcontour.io/v1/namespaces/{NS}/httpproxies?"
                           + query, headers={"Authorization": f"Bearer {api.token}"})
        self._resp = self._conn.getresponse()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._resp:
                event = json.loads(line)
                obj = event.get("object") or {}
                name = (obj.get("metadata") or {}).get("name")
                if event.get("type") in ("ADDED", "MODIFIED") and name:
                    self._record(name, obj.get("status") or {})
        except Exception:  # noqa: BLE001 - the end of the stream (close() cut it)
            return

    def _record(self, name: str, status: dict[str, Any]) -> None:
        state = (status.get("currentStatus"), {
            c["type"]: (c["status"], c["reason"], c.get("observedGeneration"))
            for c in status.get("conditions") or []})
        if self._last.get(name) != state:
            self._last[name] = state
            self.seen.setdefault(name, []).append(state)

    def close(self) -> None:
        if self._conn.sock is not None:  # wakes the reader (a plain close() waits for it)
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        self._conn.close()


@pytest.fixture
def world(admin_api: KubeApi, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    ensure_namespace(admin_api, NS)
    delete_namespace_objects(admin_api, NS)
    for o in admin_api.list("HTTPProxy", NS):
        admin_api.delete("HTTPProxy", NS, o["metadata"]["name"])
    w = World(tmp_path, admin_api)
    w.service(NS, "app")
    yield w
    w.close()
    for o in admin_api.list("HTTPProxy", NS):
        admin_api.delete("HTTPProxy", NS, o["metadata"]["name"])
    delete_namespace_objects(admin_api, NS)


def all_programmed(api: KubeApi, names: list[str]) -> bool:
    """Whether every named HTTPProxy is Programmed at its generation (raises with the
    others' conditions: wait_for reports the last one)."""
    out = {}
    for obj in api.list("HTTPProxy", NS):
        conds = {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}
        got = conds.get("Programmed") or {}
        if obj["metadata"]["name"] in names and (got.get("status") != "True" or got.get(
                "observedGeneration") != obj["metadata"]["generation"]):
            out[obj["metadata"]["name"]] = got
    assert not out, f"{len(out)} not programmed, e.g. {sorted(out.items())[:3]}"
    return True


def settled(api: KubeApi, quiet: float = 3.0, timeout: float = 30.0) -> dict[str, int]:
    """The write counts once they have not moved for `quiet` seconds (a write the controller
    still had in mind would land within: its status tick is 1 s, its grace 10 s is waited
    for separately)."""
    deadline = time.monotonic() + timeout
    last, since = status_writes(api), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = status_writes(api)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise AssertionError(f"status writes still moving after {timeout}s: {last}")


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in STATUS_RESOURCES}


def test_status_writes_at_install_restart_and_change(
        admin_api: KubeApi, contour_identity: Identity, world: World,  # noqa: F811
        tmp_path: Path) -> None:
    for obj in objects():
        admin_api.apply(obj)
    proxies = [*(f"r{i}" for i in range(ROOTS)), *(f"c{i}" for i in range(0, ROOTS, 2))]
    start = status_writes(admin_api)
    watch = StatusWatch(admin_api, admin_api.json(
        "GET", f"/apis/projectcontour.io/v1/namespaces/{NS}/httpproxies")["metadata"][
        "resourceVersion"])
    ctl = ClusterController(tmp_path / "ctl1", contour_identity.kubeconfig)
    try:
        ctl.wait_healthy()
        world.start_envoy(ctl)
        world.wait_backend(HOST.format(0), f"{NS}/app:80")
        wait_for("every proxy programmed",
                 lambda: all_programmed(admin_api, proxies), 120)
        installed = settled(admin_api)
        # first install: one status per object (the HTTPProxies, `broken` and the IngressRoute),
        # no Ingress
        assert delta(installed, start) == {"httpproxies": len(proxies) + 1,
                                           "ingressroutes": 1, "ingresses": 0}, watch.seen
    finally:
        ctl.terminate()
    watch.seen.clear()
    restarted = ClusterController(tmp_path / "ctl2", contour_identity.kubeconfig,
                                  ports=ctl.ports)
    try:
        restarted.wait_healthy()
        wait_for("the Envoy reconnected",
                 lambda: restarted.metric("contour_xds_connected_envoys") == 1, 30)
        time.sleep(1.5)
        # the restart: no write, through the moment without Envoys and its reconnect
        assert delta(settled(admin_api), installed) == dict.fromkeys(STATUS_RESOURCES, 0), \
            watch.seen
        before = status_writes(admin_api)
        admin_api.apply(child(0, "/v2"))  # one child's route: its generation moves
        wait_for("c0 programmed at its new generation",
                 lambda: all_programmed(admin_api, ["c0"]), 30)
        # the change: c0's status once (observedGeneration), its root untouched
        assert delta(settled(admin_api), before) == {"httpproxies": 1, "ingressroutes": 0,
                                                     "ingresses": 0}, watch.seen
        assert list(watch.seen) == ["c0"], watch.seen
    finally:
        restarted.stop()
        watch.close()
