"""`bench.bench fanout`: one controller, many xDS clients (issue 12 item 3).

    python -m bench.bench fanout --n 10000 --clients 1000 [--client-procs 2] [--envoys 10]
                                 [--changes 20] [--route-layout single|scoped]

`contour serve --source-dir` holds bench/generate.py's N IngressRoutes, Services and
Endpoints (one loopback backend). `--clients` light delta ADS clients (bench/adsfan.py,
spread over `--client-procs` processes, each client its own TCP connection, asking and
ACKing in Envoy's order) and `--envoys` real Envoys connect to it. Measured:

- connect: every light client opened at once → all served (all four types ACKed);
- change: one IngressRoute's prefixRewrite rewritten → each light client has received the
  route table carrying it and ACKed (p50/p99/max over all clients, `changes` times), and
  each real Envoy serves it (a request through a listener of its own: the bench adds one
  static listener on the `ingress_http` route table, or on its scopes with `--route-layout
  scoped`, to each Envoy's bootstrap, since the served listener's port is one for all);
- reconnect storm: every light client drops its connection and reconnects at once, sending
  what it holds (`initial_resource_versions`, as Envoy does) → all served;
- the controller's RSS and CPU time before the clients, after they connected, after the
  changes and after the storm, and per connected client.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from bench import generate
from bench.bench import (
    ROOT,
    Envoy,
    Poller,
    contour_serve,
    cpu_seconds,
    free_port,
    http_ok,
    proc_memory,
    rewritten,
    served,
    start_backend,
    summary,
    wait_until,
)
from controller.envoy import listener
from controller.xdscache.routes import HTTP_ROUTES

SETTLE = 3.0
"""Seconds before a settled RSS reading (per-client figures use the settled one)."""


class Fleet:
    """The light clients' processes, driven by one command line each (bench/adsfan.py)."""

    def __init__(self, port: int, clients: int, procs: int, *, scoped: bool = False) -> None:
        sizes = [clients // procs + (1 if j < clients % procs else 0) for j in range(procs)]
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "bench.adsfan", "--port", str(port), "--clients",
             str(size), "--name", f"fan{j}", *(["--scoped"] if scoped else [])],
            cwd=ROOT, text=True, bufsize=1, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for j, size in enumerate(sizes) if size]

    def send(self, line: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(line + "\n")
            p.stdin.flush()

    def collect(self, event: str) -> list[float]:
        """Every process's next report, which must be `event`; their times, joined."""
        times: list[float] = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"fanout client process exited ({p.wait()})")
            got = json.loads(line)
            if got["event"] != event:
                raise RuntimeError(f"expected {event}, got {got}")
            times += got.get("times", [])
        return times

    def cpu(self) -> list[float]:
        """CPU seconds each client process has used (the bench's own share of the box)."""
        return [cpu_seconds(p.pid) for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None and p.stdin is not None:
                p.stdin.write("quit\n")
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


class ProbedEnvoy(Envoy):
    """A bench Envoy plus a static listener of its own on the `ingress_http` route table
    (from ADS), or on its scopes (`scoped`): its traffic can be told from the other
    Envoys'."""

    def __init__(self, xds_port: int, work: Path, index: int, *, scoped: bool = False) -> None:
        work.mkdir(parents=True, exist_ok=True)
        super().__init__(xds_port, work)
        self.node = f"envoy-{index}"
        self.probe_port = free_port()
        config = json.loads(self.config.read_text())
        config.setdefault("static_resources", {}).setdefault("listeners", []).append(
            probe_listener(self.probe_port, scoped=scoped))
        self.config.write_text(json.dumps(config))


def probe_listener(port: int, *, scoped: bool = False) -> dict[str, Any]:
    """The probe's listener; `scoped`: routed by the controller's scopes, as its scoped
    HTTP listener is (SRDS is one wildcard set per Envoy), else by `ingress_http`."""
    hcm = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    routing: dict[str, Any] = (
        {"scoped_routes": json_format.MessageToDict(listener.scoped_routes(HTTP_ROUTES))}
        if scoped else
        {"rds": {"route_config_name": HTTP_ROUTES,
                 "config_source": {"ads": {}, "resource_api_version": "V3"}}})
    return {
        "name": "bench-probe",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": hcm + "HttpConnectionManager", "stat_prefix": "bench_probe",
                **routing,
                "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3."
                             "Router"}}]}}]}],
    }


def usage(pid: int) -> dict[str, float]:
    return {**proc_memory(pid), "cpu_s": cpu_seconds(pid)}


def per_client(before: dict[str, float], after: dict[str, float], clients: int
               ) -> dict[str, float]:
    """(after - before) / clients: RSS in kB, CPU in ms."""
    return {"rss_kb": round((after["VmRSS"] - before["VmRSS"]) * 1024 / clients, 1),
            "cpu_ms": round((after["cpu_s"] - before["cpu_s"]) * 1000 / clients, 2)}


def latencies(times: list[float], t0: float) -> dict[str, float]:
    return summary([t - t0 for t in times])


def envoy_change(envoys: list[ProbedEnvoy], host: str, prefix: str, t0: float
                 ) -> list[float]:
    """Seconds from t0 until each Envoy serves the change (perf_counter clock)."""
    def one(e: ProbedEnvoy) -> float:
        return Poller(e.probe_port).wait(host, rewritten(prefix), timeout=120,
                                         interval=0.005) - t0

    with ThreadPoolExecutor(max(1, len(envoys))) as pool:
        return list(pool.map(one, envoys))


def run_changes(fleet: Fleet, envoys: list[ProbedEnvoy], folder: Path, n: int,
                changes: int) -> dict[str, Any]:
    """`changes` rewrites of one IngressRoute's prefix; per change, every client's and
    every Envoy's time to have it."""
    mutable = min(n, 20)
    prefixes = dict.fromkeys(range(mutable), "")
    clients: list[float] = []
    real: list[float] = []
    for k in range(changes):
        i, prefix = k % mutable, f"/r{k}x/"
        prefixes[i] = prefix
        fleet.send(f"watch {prefix}")
        fleet.collect("armed")
        t_mono, t_perf = time.monotonic(), time.perf_counter()
        generate.write_changing(folder, [generate.ingressroute(j, prefix_rewrite=p)
                                         for j, p in sorted(prefixes.items())])
        real += envoy_change(envoys, generate.host(i), prefix, t_perf)
        clients += [t - t_mono for t in fleet.collect("seen")]
        time.sleep(random.uniform(0.2, 0.5))
    return {"clients_ms": summary(clients), "envoys_ms": summary(real)}


def start_envoys(count: int, xds_port: int, work: Path, n: int, *, scoped: bool = False
                 ) -> list[ProbedEnvoy]:
    envoys = [ProbedEnvoy(xds_port, work / f"envoy-{j}", j, scoped=scoped)
              for j in range(count)]
    for e in envoys:
        e.start()
    for e in envoys:
        Poller(e.probe_port).wait(generate.host(n - 1), served, timeout=600, interval=0.05)
    return envoys


def run_fanout(n: int, changes: int, *, clients: int = 1000, procs: int = 2,
               envoys: int = 10, route_layout: str = "single") -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="contour-fanout-"))
    folder = work / "objects"
    backend_port = free_port()
    generate.write_folder(folder, n, backend_port=backend_port)
    backend = start_backend(backend_port)
    out: dict[str, Any] = {"bench": "fanout", "n": n, "clients": clients,
                           "client_procs": procs, "envoys": envoys, "changes": changes,
                           "route_layout": route_layout}
    scoped = route_layout == "scoped"
    real: list[ProbedEnvoy] = []
    fleet: Fleet | None = None
    try:
        with contour_serve(["--source-dir", str(folder), "--route-layout", route_layout],
                           work) as (proc, ports):
            wait_until(lambda: http_ok(f"http://127.0.0.1:{ports['metrics']}/healthz"), 600)
            out["controller_ready"] = usage(proc.pid)
            real = start_envoys(envoys, ports["xds"], work, n, scoped=scoped)
            fleet = Fleet(ports["xds"], clients, procs, scoped=scoped)
            before = out["controller_with_envoys"] = usage(proc.pid)
            t0 = time.monotonic()
            fleet.send("connect")
            out["connect_all_served_ms"] = latencies(fleet.collect("served"), t0)
            out["controller_connected"] = usage(proc.pid)
            time.sleep(SETTLE)  # what stays, not the send buffers still draining
            connected = out["controller_connected_settled"] = usage(proc.pid)
            out["per_client"] = per_client(before, connected, clients)
            out["change"] = run_changes(fleet, real, folder, n, changes)
            after = out["controller_after_changes"] = usage(proc.pid)
            out["change"]["cpu_ms_per_change_per_client"] = round(
                (after["cpu_s"] - connected["cpu_s"]) * 1000 / max(1, changes * clients), 3)
            t0 = time.monotonic()
            fleet.send("reconnect")
            out["reconnect_storm_served_ms"] = latencies(fleet.collect("served"), t0)
            out["controller_after_storm"] = usage(proc.pid)
            time.sleep(SETTLE)
            out["controller_after_storm_settled"] = usage(proc.pid)
            out["envoy_memory"] = [e.memory() for e in real]
            out["client_procs_cpu_s"] = fleet.cpu()
    finally:
        if fleet is not None:
            fleet.stop()
        for e in real:
            e.stop()
        backend.shutdown()
    return out
