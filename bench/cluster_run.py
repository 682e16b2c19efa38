"""`bench.bench cluster`: `contour serve --kubeconfig` against a real kube-apiserver + etcd
(tests/cluster/controlplane.py) holding a workload of bench/cluster_workloads.py, measured as
`bench.bench folder` is (bench/bench.py's module docstring says what each figure is), and the
cluster plumbing the other benches share (the raw admin API, the backend on the run's network
namespace, the controller's /metrics)."""

from __future__ import annotations

import gc
import http.client
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import generate
from bench.bench import (
    ROOT,
    Obj,
    backend_server,
    contour_serve,
    measure_serving,
)
from bench.cluster_workloads import (
    ROUTING_API,
    ClusterWorkload,
    prefix_workload,
    switch_workload,
)


def cluster_helpers() -> tuple[Any, Any]:
    """tests/cluster/controlplane.py and tests/e2e/harness/netns.py, imported under the
    names the tests use (one `backend_network()` per process, whoever asks first)."""
    for sub in ("tests/cluster", "tests/e2e"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import controlplane  # type: ignore[import-not-found]
    from harness import netns  # type: ignore[import-not-found]

    return controlplane, netns


class AdminApi:
    """Raw admin requests to the API server, one keep-alive connection per thread."""

    def __init__(self, server: str, token: str, ca_file: Path) -> None:
        import ssl
        import urllib.parse

        url = urllib.parse.urlsplit(server)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 443
        self.ctx = ssl.create_default_context(cafile=str(ca_file))
        self.token = token
        self.local = threading.local()

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                   "Content-Type": content_type}
        for attempt in range(8):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPSConnection(
                    self.host, self.port, context=self.ctx, timeout=60)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                time.sleep(0.1 * (attempt + 1))
                continue
            if resp.status == 429 or resp.status >= 500:  # busy: back off and retry
                time.sleep(0.2 * (attempt + 1))
                continue
            return resp.status, payload
        raise RuntimeError(f"{method} {path}: API server kept failing")

    def must(self, method: str, path: str, body: Any = None,
             content_type: str = "application/json") -> None:
        status, payload = self.request(method, path, body, content_type)
        if status >= 300 and not (method == "POST" and status == 409):  # 409: exists
            raise RuntimeError(f"{method} {path}: {status} {payload[:300]!r}")

    def bulk(self, what: str, calls: list[tuple[str, str, Any, str]], workers: int = 8) -> float:
        """Run the requests on a thread pool; returns the seconds it took."""
        from concurrent.futures import ThreadPoolExecutor

        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(lambda c: self.must(*c), calls, chunksize=64):
                pass
        took = time.perf_counter() - t
        print(f"bench cluster: {len(calls)} {what} in {took:.1f} s "
              f"({len(calls) / max(took, 1e-9):.0f}/s)", file=sys.stderr, flush=True)
        return took


def load_backends(api: AdminApi, services: list[Obj], slices: list[Obj]) -> dict[str, float]:
    """Namespace `bench`, its Services and EndpointSlices (setup, not measured)."""
    ns, json_ct = generate.NAMESPACE, "application/json"
    api.must("POST", "/api/v1/namespaces",
             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    return {
        "services": round(api.bulk("Services", [
            ("POST", f"/api/v1/namespaces/{ns}/services", s, json_ct) for s in services]), 1),
        "endpointslices": round(api.bulk("EndpointSlices", [
            ("POST", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", s, json_ct)
            for s in slices]), 1),
    }


def load_cluster(api: AdminApi, workload: ClusterWorkload) -> dict[str, float]:
    """The workload's backends, routing objects and preset statuses (setup, not measured):
    with statuses preset the cluster is as a restarted controller finds it."""
    took = load_backends(api, workload.services, workload.slices)
    where = ROUTING_API[workload.kind]
    took["routing"] = round(api.bulk(f"{workload.kind} objects", [
        ("POST", where, obj, "application/json") for obj in workload.routing]), 1)
    if workload.statuses:
        took["statuses"] = round(api.bulk("statuses", [
            ("PATCH", f"{where}/{name}/status", body, "application/merge-patch+json")
            for name, body in workload.statuses]), 1)
    return took


def start_netns_backend(network: Any) -> ThreadingHTTPServer:
    """The backend on the run's own test host: its thread enters the network namespace
    before binding the namespace's address (netns.py); Envoy reaches it over the veth."""
    import queue

    made: queue.Queue[ThreadingHTTPServer | BaseException] = queue.Queue()

    def serve() -> None:
        try:
            network.enter_in_this_thread()
            server = backend_server(network.backend_ip, 0)
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            made.put(err)
            return
        made.put(server)
        server.serve_forever()

    threading.Thread(target=serve, daemon=True, name="bench-backend").start()
    got = made.get(timeout=30)
    if isinstance(got, BaseException):
        raise got
    return got


def apiserver_requests(api: AdminApi) -> Iterator[tuple[dict[str, str], float]]:
    """The API server's `apiserver_request_total` samples from its /metrics: (labels,
    requests answered so far)."""
    from prometheus_client.parser import text_string_to_metric_families

    _, body = api.request("GET", "/metrics")
    for fam in text_string_to_metric_families(body.decode()):
        for sample in fam.samples:
            if sample.name == "apiserver_request_total":
                yield sample.labels, sample.value


def scrape(port: int) -> dict[str, float]:
    """The controller's /metrics, flattened: {'name{labels}': value}."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for sample in fam.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def run_cluster(n: int, changes: int, *, statuses: bool = True, identity: str = "admin",
                kind: str = "ingressroute", workload: str = "prefix",
                route_layout: str = "single") -> dict[str, Any]:
    """`contour serve --kubeconfig` against a real kube-apiserver + etcd
    (tests/cluster/controlplane.py, API Priority and Fairness at its defaults) holding the
    workload (bench/cluster_workloads.py): by default N IngressRoutes, Services and
    EndpointSlices, a change = a PATCH of one IngressRoute's prefix; `switch`: blue/green,
    a change = a root re-pointed at a green whose cluster is new. The same measurements as
    `folder`. `identity`: the controller's credentials, the admin (system:masters: APF's
    `exempt`) or the manifests' ServiceAccount (`contour`). `kind` httpproxy:
    generate.httpproxies' roots and children instead (a first install only: `statuses`
    must be False). `route_layout`: the controller's `--route-layout`."""
    if kind != "ingressroute" and statuses:
        raise SystemExit("bench cluster --kind httpproxy needs --fresh-status")
    if workload == "switch" and (kind != "ingressroute" or not statuses):
        raise SystemExit("bench cluster --workload switch: IngressRoutes, statuses preset")
    controlplane, netns = cluster_helpers()
    work = Path(tempfile.mkdtemp(prefix="contour-bench-"))
    out: dict[str, Any] = {"bench": "cluster", "n": n, "kind": kind, "workload": workload,
                           "statuses_preset": statuses, "identity": identity,
                           "route_layout": route_layout}
    network = netns.backend_network()
    backend = start_netns_backend(network)
    cp = controlplane.ControlPlane(flow_control=True)
    try:
        cp.start()
        port = int(backend.server_address[1])
        made = (switch_workload(n, network.backend_ip, port) if workload == "switch" else
                prefix_workload(n, kind, network.backend_ip, port, statuses=statuses))
        serve_cluster(cp, made, n, changes, identity, backend, work, out,
                      route_layout=route_layout)
    finally:
        backend.shutdown()
        cp.stop()
    return out


def serve_cluster(cp: Any, workload: ClusterWorkload, n: int, changes: int, identity: str,
                  backend: ThreadingHTTPServer, work: Path, out: dict[str, Any], *,
                  route_layout: str = "single") -> None:
    """Load the workload (N hosts), then `contour serve` on it with `measure_serving`'s
    figures; on a first install (no statuses preset) also bench/status_writes.py's."""
    from bench import status_writes

    kubeconfig, token = controller_identity(cp, identity)
    api = AdminApi(cp.server, cp.admin_token, cp.ca_file)
    out["flow_control"] = status_writes.flow_schema(cp.server, token, cp.ca_file, api)
    out["objects"] = objects = len(workload.routing)
    out["setup_s"] = load_cluster(api, workload)
    counts_before = status_writes.api_counts(api)
    api_kind = "IngressRoute" if workload.kind == "ingressroute" else "HTTPProxy"
    expected = {"routing": objects, "services": len(workload.services), "valid": workload.valid}

    def patch(path: str, body: Obj) -> None:
        api.must("PATCH", path, body, "application/merge-patch+json")

    def change(i: int, prefix: str) -> str | None:
        return workload.change(patch, i, prefix)

    def check_complete() -> None:
        """What the first published snapshot was built from (read right after /healthz
        turned 200): every object listed, the expected ones valid (plus the
        `default/kubernetes` Service)."""
        ready = time.perf_counter()
        m = scrape(ports["metrics"])
        got = {"routing": m.get(f"contour_objects{{kind={api_kind}}}"),
               "services": (m.get("contour_objects{kind=Service}") or 0) - 1,
               "valid": m.get(f"contour_{workload.kind}_status{{status=valid}}")}
        out["a_snapshot_built_from"] = got
        if got != expected:
            raise RuntimeError(f"first snapshot incomplete: {got}, not {expected}")
        if not workload.statuses:  # a first install: statuses to write (in the background)
            pids = {"controller": proc.pid, "kube-apiserver": cp.apiserver_proc.pid,
                    "etcd": cp.etcd_proc.pid}
            out["status"] = status_writes.Run(objects, started, ready, ports, pids,
                                              change, api, counts_before).measure()

    gc.collect()
    started = time.perf_counter()
    with contour_serve(["--kubeconfig", str(kubeconfig), "--route-layout", route_layout],
                       work) as (proc, ports):
        measure_serving(proc, ports, n, started, work, change, changes, out,
                        lambda: backend, on_ready=check_complete)
        m = scrape(ports["metrics"])
        out["status_writes"] = int(m.get("contour_status_writes_total", 0))
        out["watch_restarts"] = int(sum(v for k, v in m.items()
                                        if k.startswith("contour_watch_restarts_total")))


def controller_identity(cp: Any, identity: str) -> tuple[Path, str]:
    """The CRDs, and the controller's kubeconfig and token: the admin's, or (`contour`) a
    token of the manifests' ServiceAccount with their RBAC (tests/cluster/clusterkit.py)."""
    if identity == "contour":
        from clusterkit import install_contour_identity  # type: ignore[import-not-found]

        made = install_contour_identity(cp)
        return made.kubeconfig, made.token
    cp.kubectl("apply", "-f", str(ROOT / "manifests" / "01-crds.yaml"))
    cp.wait_established("crd/ingressroutes.contour.heptio.com",
                        "crd/httpproxies.projectcontour.io",
                        "crd/tlscertificatedelegations.contour.heptio.com")
    return cp.kubeconfig, cp.admin_token
