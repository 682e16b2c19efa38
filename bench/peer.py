"""`bench.bench peer`: this controller and upstream Contour v1.33.8 on the same objects.

    python -m bench.bench peer --n 1000 [--changes 20] [--peer-kinds ingress,httpproxy]

One kube-apiserver + etcd (tests/cluster/controlplane.py) holds N Services and N
EndpointSlices (one ready endpoint each, on the run's own network namespace: the API server
refuses loopback). Then, per kind, the same N routing objects (Ingress v1 `ing-i`, or the
HTTPProxy workload of bench/generate.py: N roots, half of them including a child), and per
kind the two controllers one after the other, each with its own Envoy (the same binary and
flags) and its own bootstrap (this one: `contour bootstrap`'s default; upstream:
`contour bootstrap --xds-address --xds-port --xds-resource-version=v3`, Envoy's default
stats). Measured for each (`measure`): controller spawned → the last host served through
its Envoy (Envoy is started once the controller's xDS port accepts connections), a sample
of hosts checked after; change → traffic over `changes` PATCHes; controller RSS/peak and
CPU time; Envoy RSS; status writes the API server received meanwhile.

HTTPProxy statuses: each controller starts from the statuses it would write itself (a
restarted controller, as `bench cluster` presets IngressRoute statuses). They are learned
from three objects before the N are created (`learn_statuses`), then written on every object
(`preset_statuses`). Neither controller writes an Ingress status here.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import generate
from bench.bench import (
    CLUSTER_STATS,
    ENVOY_EXTRA,
    ROOT,
    Envoy,
    Obj,
    Poller,
    contour_serve,
    cpu_seconds,
    proc_memory,
    served,
    summary,
    wait_until,
)
from bench.bench import serve_args as bench_serve_args
from bench.cluster_run import (
    AdminApi,
    apiserver_requests,
    cluster_helpers,
    load_backends,
    start_netns_backend,
)
from bench.cluster_workloads import backends
from bench.upstream import UpstreamEnvoy, serve_args, upstream_build, upstream_serve
from bench.workloads import IngressWorkload, ProxyWorkload, Workload

NS = generate.NAMESPACE
Serve = Callable[[Path], AbstractContextManager[tuple[subprocess.Popen[bytes], dict[str, int]]]]


@dataclass(frozen=True)
class Contender:
    """One controller under test: how to start it, and its Envoy for the given ports."""

    name: str
    serve: Serve
    envoy: Callable[[dict[str, int], Path], Envoy]
    flags: list[str]


def contenders(kubeconfig: Path, binary: Path) -> list[Contender]:
    """Upstream first, then this controller (each run starts from a settled API server)."""
    def ours_envoy(ports: dict[str, int], work: Path) -> Envoy:
        return Envoy(ports["xds"], work)

    def upstream_envoy(ports: dict[str, int], work: Path) -> Envoy:
        return UpstreamEnvoy(binary, ports["xds"], work)

    # the flags as reported: free ports are drawn per run, shown here as 0
    shown = {k: 0 for k in ("xds", "metrics", "health", "debug", "stats", "http", "https")}
    return [
        Contender("upstream", lambda w: upstream_serve(binary, kubeconfig, w), upstream_envoy,
                  serve_args(Path("KUBECONFIG"), shown)),
        Contender("this", lambda w: contour_serve(["--kubeconfig", str(kubeconfig)], w),
                  ours_envoy, bench_serve_args(["--kubeconfig", "KUBECONFIG"], shown)),
    ]


# -- the cluster -----------------------------------------------------------------------


def install_crds(cp: Any, upstream_crds: Path, work: Path) -> None:
    """Upstream's own CRDs for projectcontour.io (its status shapes are what it compares
    against), this project's for contour.heptio.com (which upstream no longer serves)."""
    import yaml

    ours = [d for d in yaml.safe_load_all((ROOT / "manifests" / "01-crds.yaml").read_text())
            if d and d["spec"]["group"] == "contour.heptio.com"]
    ours_file = work / "crds-contour-heptio.yaml"
    ours_file.write_text(yaml.safe_dump_all(ours))
    # create, not apply: the last-applied annotation of upstream's large CRDs exceeds 256 kB
    for path in (upstream_crds, ours_file):
        cp.kubectl("create", "-f", str(path))
    cp.wait_established("crd", "--all", timeout=120)


def status_writes(api: AdminApi) -> int:
    """Status-subresource writes of HTTPProxies and Ingresses the API server has served."""
    return int(sum(value for lb, value in apiserver_requests(api)
                   if lb.get("subresource") == "status"
                   and lb.get("resource") in ("httpproxies", "ingresses")
                   and lb.get("verb") in ("PATCH", "PUT", "APPLY")))


# -- one controller, measured -------------------------------------------------------------

SAMPLE = 200
"""Hosts checked after the last one is served (evenly spaced, the last included)."""


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running(c: Contender, work: Path) -> Iterator[tuple[subprocess.Popen[bytes], Envoy, float]]:
    """The controller spawned, then its Envoy once the xDS port accepts connections;
    yields (controller, Envoy, the spawn's perf_counter time)."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with c.serve(work) as (proc, ports):
        def listening() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"{c.name}: controller exited ({proc.returncode}); see {work}")
            return port_open(ports["xds"])

        wait_until(listening, timeout=300, interval=0.01)
        envoy = c.envoy(ports, work)
        envoy.http_port = ports["http"]
        try:
            envoy.start()
            yield proc, envoy, t0
        finally:
            envoy.stop()


def cold(proc: subprocess.Popen[bytes], envoy: Envoy, w: Workload, t0: float) -> dict[str, Any]:
    """Spawn → the last host served; then a sample of hosts, and any not yet served is
    waited for (the cold start ends when the last of them answers)."""
    poller = Poller(envoy.http_port)
    last = poller.wait(w.host(w.n - 1), served, timeout=900, interval=0.02)
    out: dict[str, Any] = {"cpu_at_last_host_s": cpu_seconds(proc.pid),
                           "memory_at_last_host": proc_memory(proc.pid)}
    sample = sorted({*range(0, w.n, max(1, w.n // SAMPLE)), w.n - 1})
    late = [h for h in (w.host(i) for i in sample) if not served(*poller.get(h))]
    for h in late:
        last = max(last, poller.wait(h, served, timeout=120))
    out.update(cold_to_last_host_s=round(last - t0, 3), hosts_checked=len(sample),
               hosts_late=len(late))
    return out


def change_latencies(port: int, w: Workload, changes: int) -> dict[str, float]:
    """PATCH sent → the first request through Envoy that shows it (2 ms keep-alive polls)."""
    poller = Poller(port)
    poller.wait(w.host(0), served, timeout=60)
    lat = []
    for k in range(changes):
        t = time.perf_counter()
        host, live = w.change(k)
        lat.append(poller.wait(host, live, timeout=120) - t)
        time.sleep(random.uniform(0.2, 0.5))
    return summary(lat)


def measure(c: Contender, w: Workload, changes: int, api: AdminApi, work: Path) -> dict[str, Any]:
    """Cold start, changes, memory and CPU of one controller and its Envoy."""
    writes = status_writes(api)
    with running(c, work) as (proc, envoy, t0):
        out = cold(proc, envoy, w, t0)
        out["change_to_envoy_ms"] = change_latencies(envoy.http_port, w, changes)
        out["controller_memory"] = proc_memory(proc.pid)
        out["controller_cpu_s"] = cpu_seconds(proc.pid)
        out["envoy_memory"] = envoy.memory()
    out["status_writes"] = status_writes(api) - writes
    return out


def stable_statuses(api: AdminApi, paths: list[str], timeout: float = 90.0) -> dict[str, Obj]:
    """The objects' statuses once all are `valid` and none moved for 2.5 s (this
    controller writes at most once a second; its Programmed condition follows Envoy's ACK)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        got = {p: json.loads(api.request("GET", p)[1]).get("status") or {} for p in paths}
        if got != last:
            last, since = got, time.monotonic()
        elif (all(s.get("currentStatus") == "valid" for s in got.values())
              and time.monotonic() - since >= 2.5):
            return got
        time.sleep(0.2)
    raise TimeoutError(f"statuses did not settle: {last}")


def learn_statuses(c: Contender, w: ProxyWorkload, work: Path) -> dict[str, Obj]:
    """The statuses controller `c` writes on the three learning objects (theirs cleared
    first), read once they have settled with its Envoy attached."""
    for name in w.LEARN:
        w.patch(name, {"status": None}, "/status")
    with running(c, work):
        got = stable_statuses(w.api, [f"{w.collection}/{name}" for name in w.LEARN])
    return {path.rsplit("/", 1)[1]: status for path, status in got.items()}


# -- the run -------------------------------------------------------------------------------


def ratios(upstream: dict[str, Any], this: dict[str, Any]) -> dict[str, float | None]:
    """upstream / this, per headline figure (> 1: this controller is ahead)."""
    def pick(r: dict[str, Any]) -> dict[str, float]:
        return {"cold_to_last_host": r["cold_to_last_host_s"],
                "change_p50": r["change_to_envoy_ms"]["p50"],
                "change_p99": r["change_to_envoy_ms"]["p99"],
                "controller_rss": r["controller_memory"]["VmRSS"],
                "controller_cpu": r["controller_cpu_s"],
                "envoy_rss": r["envoy_memory"]["VmRSS"]}

    a, b = pick(upstream), pick(this)
    return {k: round(a[k] / b[k], 2) if b[k] else None for k in sorted(a)}


def run_kind(kind: str, api: AdminApi, n: int, changes: int, runners: list[Contender],
             work: Path) -> dict[str, Any]:
    """One kind's N objects created, each controller measured on them, then deleted."""
    w: Workload = ProxyWorkload(api, n) if kind == "httpproxy" else IngressWorkload(api, n)
    objects = w.objects()
    out: dict[str, Any] = {}
    learned: dict[str, dict[str, Obj]] = {}
    rest = objects
    if isinstance(w, ProxyWorkload):
        w.create([o for o in objects if o["metadata"]["name"] in w.LEARN])
        learned = {c.name: learn_statuses(c, w, work / f"learn-{c.name}") for c in runners}
        rest = [o for o in objects if o["metadata"]["name"] not in w.LEARN]
    out["create_s"] = round(w.create(rest), 1)
    for c in runners:
        if isinstance(w, ProxyWorkload):
            out[f"preset_status_{c.name}_s"] = round(w.preset(learned[c.name], objects), 1)
        out[c.name] = measure(c, w, changes, api, work / c.name)
        w.reset()
    w.delete_all()
    out["ratio_upstream_to_this"] = ratios(out["upstream"], out["this"])
    return out


def versions(binary: Path) -> dict[str, str]:
    from bench.bench import envoy_binary

    def first(cmd: list[str], marker: str) -> str:
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = (res.stdout + res.stderr).splitlines()
        return next((ln.strip() for ln in lines if marker in ln), "?")

    return {"upstream": first([str(binary), "version"], "version:"),
            "envoy": first([envoy_binary(), "--version"], "version")}


def run_peer(n: int, changes: int, kinds: tuple[str, ...] = ("ingress", "httpproxy")
             ) -> dict[str, Any]:
    """Both controllers, kind after kind, against one API server (module docstring)."""
    binary, crds = upstream_build()
    controlplane, netns = cluster_helpers()
    work = Path(tempfile.mkdtemp(prefix="contour-peer-"))
    out: dict[str, Any] = {"bench": "peer", "n": n, "changes": changes, "work": str(work),
                           **versions(binary)}
    network = netns.backend_network()
    backend = start_netns_backend(network)
    cp = controlplane.ControlPlane()
    try:
        cp.start()
        install_crds(cp, crds, work)
        api = AdminApi(cp.server, cp.admin_token, cp.ca_file)
        port = int(backend.server_address[1])
        out["setup_s"] = load_backends(api, *backends(range(n), network.backend_ip, port))
        runners = contenders(cp.kubeconfig, binary)
        out["flags"] = {**{c.name: c.flags for c in runners}, "envoy": [
            "--disable-hot-restart", "--log-level", "warn", *ENVOY_EXTRA],
            "bootstrap": {"this": ["--cluster-stats", CLUSTER_STATS[0]],
                          "upstream": UpstreamEnvoy.BOOTSTRAP}}
        for kind in kinds:
            out[kind] = run_kind(kind, api, n, changes, runners, work / kind)
    finally:
        backend.shutdown()
        cp.stop()
    return out
