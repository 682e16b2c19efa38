"""The cluster source, the status writer and /healthz against a real API server (and, for
the failure modes a real server will not produce on demand, against a scripted one).

* a scripted server: 410 as an HTTP status and as a watch ERROR event → relist, with the
  deletes of the gap emitted; a silent stall → read timeout → reconnect; bookmarks move the
  resourceVersion; clean ends re-watch without a relist;
* a real 410: a watch from a resourceVersion older than the (restarted) API server's watch
  cache, with etcd compacted → relist, no update lost. (Compaction alone does not do it on
  this API server: lists, continue tokens and watches are all served from its watch cache.)
* an API-server outage: /healthz turns 503, Envoy keeps serving the last good
  configuration, changes made meanwhile (straight into etcd, as another API server would)
  and right after the restart all arrive;
* statuses are written through the status subresource and only when they changed;
* /healthz is 503 until the first full sync; the ServiceAccount's RBAC is not broader than
  the manifests say (real requests answered 403).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    ir_status,
    wait_for,
)
from harness.kubeapi import EtcdKV, KubeApi
from kubernetes import client as k8s

from controller.events import DELETE, UPSERT, ObjectEvent
from controller.k8s.client import ApiError, KubeClient, load_api_client
from controller.sources import cluster
from controller.sources.cluster import Gone, Kind, Watcher, WatchStats

SERVICES = Kind("Service", "v1", "services")


def ev(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.op, e.name) for e in events if isinstance(e, ObjectEvent)]


# ----------------------------------------------------------------------------- scripted


class Scripted:
    """A fake API server for one path. Lists answer `state` (name → resourceVersion);
    each watch request takes the next step of `steps`, first switching `state` to the
    step's new state (a change "while the watcher was away"):

    ("gone", state)          HTTP 410
    ("error410", state)      200, then a watch ERROR event with code 410
    ("stall", None)          200, then silence (until the client gives up)
    ("events", [ev, ...])    200, these events, then a clean end
    and when no step is left: 200 and a bookmark every 0.1 s, forever."""

    def __init__(self, state: dict[str, str], steps: list[tuple[str, Any]]) -> None:
        self.state = state
        self.steps = list(steps)
        self.watch_rvs: list[str] = []
        self.lists = 0
        self.closed = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()

    def items(self) -> list[dict[str, Any]]:
        return [{"metadata": {"name": n, "namespace": "ns", "resourceVersion": rv}}
                for n, rv in sorted(self.state.items())]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                q = parse_qs(urlsplit(self.path).query)
                if "watch" not in q:
                    fake.lists += 1
                    self._json(200, {"items": fake.items(),
                                     "metadata": {"resourceVersion": str(100 + fake.lists)}})
                    return
                fake.watch_rvs.append(q["resourceVersion"][0])
                step = fake.steps.pop(0) if fake.steps else ("idle", None)
                if step[0] in ("gone", "error410"):
                    fake.state = step[1]
                self._watch(step)

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, event: dict[str, Any]) -> None:
                self.wfile.write(json.dumps(event).encode() + b"\n")
                self.wfile.flush()

            def _watch(self, step: tuple[str, Any]) -> None:
                if step[0] == "gone":
                    self._json(410, {"kind": "Status", "code": 410, "message": "too old"})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.flush()
                if step[0] == "stall":
                    fake.closed.wait()
                elif step[0] == "error410":
                    self._send({"type": "ERROR", "object": {"code": 410}})
                elif step[0] == "events":
                    for e in step[1]:
                        self._send(e)
                else:
                    while not fake.closed.wait(0.1):
                        self._send({"type": "BOOKMARK",
                                    "object": {"metadata": {"resourceVersion": "9"}}})

        return Handler


def _watcher(url: str, events: list[Any], stats: WatchStats, stop: threading.Event,
             ) -> Watcher:
    api = KubeClient(k8s.ApiClient(configuration=k8s.Configuration(host=url)))
    return Watcher(api, SERVICES, "/api/v1/namespaces/ns/services", events.append, stats, stop)


def test_watcher_relists_on_410_reconnects_on_stall_and_follows_bookmarks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "READ_TIMEOUT", 0.5)  # a stall is noticed in 0.5 s here
    monkeypatch.setattr(cluster, "BACKOFF_MIN", 0.05)
    fake = Scripted({"a": "1", "b": "1"}, [
        ("gone", {"b": "2", "c": "3"}),  # a deleted, b changed, c added meanwhile
        ("error410", {"b": "2"}),  # c deleted meanwhile
        ("stall", None),
        ("events", [
            {"type": "MODIFIED", "object": {"metadata": {
                "name": "b", "namespace": "ns", "resourceVersion": "7"}}},
            {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "8"}}},
        ]),
    ])
    events: list[Any] = []
    stats, stop, synced = WatchStats(), threading.Event(), threading.Event()
    w = _watcher(fake.url, events, stats, stop)
    threading.Thread(target=w.run, args=(synced.set,), daemon=True).start()
    try:
        assert synced.wait(5)
        wait_for("every step taken", lambda: len(fake.watch_rvs) == 5, 10, 0.01)
        assert ev(events) == [(UPSERT, "a"), (UPSERT, "b"),  # first list
                              (DELETE, "a"), (UPSERT, "b"), (UPSERT, "c"),  # after 410
                              (DELETE, "c"),  # after the ERROR event
                              (UPSERT, "b")]  # the watch event (the stall's relist: nothing)
        assert events[-1].obj["kind"] == "Service"  # typed like list items
        assert fake.lists == 4  # initial + 410 + ERROR 410 + stall; none after a clean end
        # each watch starts where the last list or event left off: after the clean end,
        # from the bookmark's resourceVersion
        assert fake.watch_rvs == ["101", "102", "103", "104", "8"]
        assert stats.restarts["Service"] == 3
        # bookmarks keep an idle watch alive past the read timeout
        time.sleep(1.2)
        assert (stats.restarts["Service"], fake.lists, stats.failing) == (3, 4, set())
        assert time.time() - stats.last_sync["Service"] < 0.5
    finally:
        stop.set()
        fake.close()


# ----------------------------------------------------------------------------- real server


def etcd_of(control_plane: Any) -> EtcdKV:
    return EtcdKV(f"http://127.0.0.1:{control_plane.etcd_port}")


def service(ns: str, name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"ports": [{"name": "http", "port": 80}]}}


def admin_client(control_plane: Any) -> KubeClient:
    return KubeClient(load_api_client(kubeconfig=str(control_plane.kubeconfig)))


def test_real_410_relists_and_loses_no_update(
        control_plane: Any, admin_api: KubeApi, contour_identity: Identity,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "WATCH_SECONDS", (2, 2))  # a watch that is not refused ends soon
    ns = "gone-test"
    ensure_namespace(admin_api, ns)
    delete_namespace_objects(admin_api, ns)
    for name in ("a", "b"):
        admin_api.apply(service(ns, name))
    events: list[Any] = []
    w = Watcher(admin_client(control_plane), SERVICES, f"/api/v1/namespaces/{ns}/services",
                events.append, WatchStats(), threading.Event())
    rv0 = w.relist()
    assert ev(events) == [(UPSERT, "a"), (UPSERT, "b")]
    # while this watcher is away: a deleted, b changed, c created; history compacted
    admin_api.delete("Service", ns, "a")
    admin_api.apply(service(ns, "b", changed="yes"))
    admin_api.apply(service(ns, "c"))
    etcd_of(control_plane).compact()
    control_plane.restart_apiserver()  # its new watch cache starts after rv0
    with pytest.raises(Gone):
        for _ in range(30):  # until the new watch cache is ready (429 before that)
            try:
                w.watch(rv0)
            except ApiError as err:
                assert err.status == 429, err
                time.sleep(0.2)
    del events[:]
    w.relist()
    assert ev(events) == [(DELETE, "a"), (UPSERT, "b"), (UPSERT, "c")]
    assert events[1].obj["metadata"]["labels"] == {"changed": "yes"}
    delete_namespace_objects(admin_api, ns)


@pytest.fixture
def world(tmp_path: Path, admin_api: KubeApi) -> Iterator[World]:  # noqa: F811
    w = World(tmp_path, admin_api)
    yield w
    w.close()


def put_ingressroute_in_etcd(etcd: EtcdKV, obj: dict[str, Any]) -> None:
    """A change made while this API server is down (as through another replica)."""
    meta = obj["metadata"]
    etcd.put(f"/registry/contour.heptio.com/ingressroutes/{meta['namespace']}/{meta['name']}",
             json.dumps(obj).encode())


def test_apiserver_outage_keeps_serving_and_loses_no_update(
        control_plane: Any, admin_api: KubeApi, contour_identity: Identity,  # noqa: F811
        world: World, tmp_path: Path) -> None:
    ns = "outage-test"
    ensure_namespace(admin_api, ns)
    delete_namespace_objects(admin_api, ns)
    world.service(ns, "blue")
    world.service(ns, "green")
    admin_api.apply(ingressroute(ns, "app", "app.outage.test", "blue"))
    admin_api.apply(ingressroute(ns, "gone", "gone.outage.test", "blue"))
    ctl = ClusterController(tmp_path / "ctl", contour_identity.kubeconfig)
    try:
        ctl.wait_healthy()
        world.start_envoy(ctl)
        world.wait_backend("app.outage.test", f"{ns}/blue:80")
        world.wait_backend("gone.outage.test", f"{ns}/blue:80")
        restarts = sum(ctl.metrics()["contour_watch_restarts_total"].values())
        app = admin_api.get("IngressRoute", ns, "app")
        assert app is not None

        control_plane.stop_apiserver()
        try:
            status, body = wait_for("/healthz 503 while the API server is down",
                                    lambda: (s := ctl.healthz())[0] == 503 and s, 15)
            assert "unreachable" in body
            assert ctl.metric("contour_api_reachable") == 0
            # the last good configuration stays in force
            for _ in range(10):
                assert world.get("app.outage.test").backend == f"{ns}/blue:80"
                time.sleep(0.1)
            # changed meanwhile, behind this API server's back
            app["spec"]["routes"][0]["services"][0]["name"] = "green"
            app["metadata"]["resourceVersion"] = ""
            put_ingressroute_in_etcd(etcd_of(control_plane), app)
            etcd_of(control_plane).call("/v3/kv/deleterange", {"key": _b64(
                f"/registry/contour.heptio.com/ingressroutes/{ns}/gone")})
        finally:
            control_plane.start_apiserver()
        # changed right after the restart, while the watches are still reconnecting
        admin_api.apply(ingressroute(ns, "new", "new.outage.test", "green"))

        world.wait_backend("app.outage.test", f"{ns}/green:80")
        world.wait_backend("gone.outage.test", None)
        world.wait_backend("new.outage.test", f"{ns}/green:80")
        wait_for("status of the new route", lambda: ir_status(admin_api, ns, "new")
                 == ("valid", "valid IngressRoute"), 15)
        ctl.wait_healthy(30)
        assert sum(ctl.metrics()["contour_watch_restarts_total"].values()) > restarts
        synced = ctl.metrics()["contour_watch_last_sync_timestamp_seconds"]
        assert {dict(k)["kind"] for k in synced} >= {"IngressRoute", "Service", "Endpoints"}
    finally:
        ctl.stop()
        delete_namespace_objects(admin_api, ns)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_status_through_subresource_only_when_changed(
        admin_api: KubeApi, contour_identity: Identity, tmp_path: Path,  # noqa: F811
        ) -> None:
    ns = "status-test"
    ensure_namespace(admin_api, ns)
    delete_namespace_objects(admin_api, ns)
    admin_api.apply(service(ns, "s"))
    admin_api.apply(ingressroute(ns, "good", "good.status.test", "s"))
    admin_api.apply(ingressroute(ns, "bad", "bad.status.test", "missing"))
    ctl = ClusterController(tmp_path / "ctl1", contour_identity.kubeconfig)
    try:
        ctl.wait_healthy()
        # the ServiceAccount may patch only ingressroutes/status: a write that landed went
        # through the subresource
        wait_for("both statuses", lambda: ir_status(admin_api, ns, "good")
                 == ("valid", "valid IngressRoute") and ir_status(admin_api, ns, "bad")
                 == ("invalid", "Service [missing:80] is invalid or missing"), 15)
        wait_for("two writes", lambda: ctl.status_writes() == 2, 5)
        # a rebuild that changes no status writes nothing
        builds = ctl.metric("contour_dag_rebuilds_total") or 0
        good = ingressroute(ns, "good", "good.status.test", "s")
        # a route change (an annotation the builder does not read no longer rebuilds)
        good["spec"]["routes"][0]["prefixRewrite"] = "/touched"
        admin_api.apply(good)
        wait_for("a rebuild", lambda: (ctl.metric("contour_dag_rebuilds_total") or 0) > builds, 10)
        admin_api.apply(ingressroute(ns, "third", "third.status.test", "s"))
        wait_for("the third status", lambda: ir_status(admin_api, ns, "third")
                 == ("valid", "valid IngressRoute"), 15)
        time.sleep(1.5)  # a duplicate write would land within this
        assert ctl.status_writes() == 3
    finally:
        ctl.stop()
    # a fresh replica finds every status in place: it writes none
    ctl = ClusterController(tmp_path / "ctl2", contour_identity.kubeconfig)
    try:
        ctl.wait_healthy()
        time.sleep(1.5)
        assert ctl.status_writes() == 0
    finally:
        ctl.stop()
        delete_namespace_objects(admin_api, ns)


def test_healthz_503_until_the_first_full_sync(
        control_plane: Any, admin_api: KubeApi, contour_identity: Identity,  # noqa: F811
        tmp_path: Path) -> None:
    """A ServiceAccount without the manifests' binding cannot list: not synced, 503; once
    bound to the manifests' ClusterRole it syncs and turns 200."""
    sa = "contour-unbound"
    control_plane.kubectl("create", "serviceaccount", sa, "-n", "heptio-contour", check=False)
    token = control_plane.kubectl("create", "token", sa, "-n", "heptio-contour",
                                  "--duration=1h").stdout.strip()
    ctl = ClusterController(tmp_path / "ctl", control_plane.token_kubeconfig(token, "unbound"))
    binding = f"{sa}-test"
    try:
        wait_for("metrics up", lambda: ctl.metrics(), 30)
        time.sleep(1.0)
        status, body = ctl.healthz()
        assert (status, body) == (503, "not synced\n")
        assert ctl.metric("contour_api_reachable") == 0  # 403s
        control_plane.kubectl("create", "clusterrolebinding", binding, "--clusterrole=contour",
                              f"--serviceaccount=heptio-contour:{sa}")
        ctl.wait_healthy(30)
        assert ctl.metric("contour_api_reachable") == 1
    finally:
        ctl.stop()
        control_plane.kubectl("delete", "clusterrolebinding", binding, check=False)
        control_plane.kubectl("delete", "serviceaccount", sa, "-n", "heptio-contour",
                              check=False)


def test_serviceaccount_rbac_is_not_broader_than_the_manifests(
        admin_api: KubeApi, contour_identity: Identity) -> None:  # noqa: F811
    """Real requests with the controller's own client and token: 403 where the manifests
    grant nothing."""
    ns = "rbac-test"
    ensure_namespace(admin_api, ns)
    admin_api.apply(ingressroute(ns, "r", "r.rbac.test", "s"))
    sa = KubeClient(load_api_client(kubeconfig=str(contour_identity.kubeconfig)))
    ir = f"/apis/contour.heptio.com/v1beta1/namespaces/{ns}/ingressroutes/r"
    sa.request("PATCH", f"{ir}/status", body={"status": {"currentStatus": "valid"}},
               content_type="application/merge-patch+json")  # granted
    denied = [
        ("PATCH", ir, {"spec": {"virtualhost": {"fqdn": "evil.rbac.test"}}}),
        ("GET", "/api/v1/pods", None),
        ("GET", "/api/v1/configmaps", None),
        ("DELETE", f"/api/v1/namespaces/{ns}/services/s", None),
        ("POST", f"/api/v1/namespaces/{ns}/secrets",
         {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "evil"}}),
        ("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
         {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
          "metadata": {"name": "evil"}}),
    ]
    for method, path, body in denied:
        with pytest.raises(ApiError) as err:
            sa.request(method, path, body=body,
                       content_type="application/merge-patch+json" if method == "PATCH"
                       else "application/json")
        assert err.value.status == 403, (method, path, err.value)
    admin_api.delete("IngressRoute", ns, "r")
