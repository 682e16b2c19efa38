"""First-install status writes (issue 12 item 7): what `bench.bench cluster --fresh-status`
adds to its line under "status".

While the controller writes N statuses after its first snapshot, the bench
- polls the controller's `contour_status_writes_total` every 50 ms: the first and the last
  accepted write, from process start and from the first snapshot (/healthz 200);
- reads the CPU time of the controller, kube-apiserver and etcd (/proc/PID/stat) at the
  first snapshot and at the last write: which side the write window is spent on;
- probes the controller's own watch: a PATCH of one IngressRoute's spec every PROBE_EVERY
  seconds, timed until the route table the controller serves over xDS (a delta ADS client
  subscribed like Envoy, connected at the first snapshot) carries it; the same probe after
  the writes gives the idle figure to compare with;
- counts, from the API server's own metrics, the status PATCHes it accepted (1 per object
  is the target) and every 429 it answered;
- names the APF flow schema and priority level the controller's identity lands in (the
  `X-Kubernetes-PF-*-UID` headers of one request with its token).
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench import AdsClient, cpu_seconds, summary
from bench.cluster_run import apiserver_requests, scrape

POLL = 0.05
PROBE_EVERY = 3.0
"""Seconds between two watch probes during the writes. Each probe is one spec PATCH, so a
rebuild of all N hosts and a route table sent: at 0.5 s they doubled the controller's
CPU during the writes (20 s for 10k) and were what was measured."""
IDLE_PROBES = 5


def _sides(pids: dict[str, int]) -> dict[str, float]:
    return {side: cpu_seconds(pid) for side, pid in pids.items()}


@dataclass
class WriteClock:
    """When the controller's write counter first moved and when it reached `n`."""

    metrics_port: int
    n: int
    started: float
    first: float | None = None
    done: float | None = None
    max_seen: int = 0
    windows: list[int] = field(default_factory=list)
    """The writer's in-flight window at each look (contour_status_write_window)."""

    def poll(self) -> bool:
        """One look at the counter; True once all n are written."""
        m = scrape(self.metrics_port)
        writes = int(m.get("contour_status_writes_total", 0))
        if "contour_status_write_window" in m:
            self.windows.append(int(m["contour_status_write_window"]))
        now = time.perf_counter()
        self.max_seen = max(self.max_seen, writes)
        if writes and self.first is None:
            self.first = now
        if writes >= self.n and self.done is None:
            self.done = now
        return self.done is not None


@dataclass
class XdsProbe:
    """A delta ADS client on a loop of its own; `lag(patch, marker)` times a PATCH until the
    served HTTP route table contains `marker`."""

    xds_port: int
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    client: AdsClient | None = None
    patch_s: list[float] = field(default_factory=list)
    """How long each probe's PATCH took to be answered (the API server's part of `lag`)."""

    def start(self) -> None:
        threading.Thread(target=self.loop.run_forever, daemon=True, name="probe").start()
        self.client = AdsClient(self.xds_port, "delta")
        asyncio.run_coroutine_threadsafe(self.client.start(), self.loop).result()

    def lag(self, patch: Callable[[], object], marker: str, timeout: float = 120) -> float:
        from controller.xdscache.routes import HTTP_ROUTES

        assert self.client is not None
        client, want = self.client, marker.encode()
        t = time.perf_counter()
        patch()
        self.patch_s.append(time.perf_counter() - t)
        done = client.wait(lambda: want in client.routes.get(HTTP_ROUTES, b""), timeout)
        asyncio.run_coroutine_threadsafe(done, self.loop).result()
        return time.perf_counter() - t

    def stop(self) -> None:
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def api_counts(api: Any) -> dict[str, int]:
    """From the API server's /metrics: status-subresource PATCHes answered 2xx, and 429s."""
    out = {"status_patches_2xx": 0, "answered_429": 0}
    for lb, value in apiserver_requests(api):
        if lb.get("code") == "429":
            out["answered_429"] += int(value)
        elif (lb.get("verb") == "PATCH" and lb.get("subresource") == "status"
              and lb.get("code", "").startswith("2")):
            out["status_patches_2xx"] += int(value)
    return out


def flow_schema(server: str, token: str, ca_file: Path, admin: Any) -> dict[str, str]:
    """The APF flow schema and priority level a request with `token` is classified into
    (names looked up by the UIDs the API server returns in its response headers)."""
    url = urllib.parse.urlsplit(server)
    conn = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port or 443,
                                       context=ssl.create_default_context(cafile=str(ca_file)))
    conn.request("GET", "/version", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    uids = {"flow_schema": resp.getheader("X-Kubernetes-PF-FlowSchema-UID") or "",
            "priority_level": resp.getheader("X-Kubernetes-PF-PriorityLevel-UID") or ""}
    base = "/apis/flowcontrol.apiserver.k8s.io/v1/"
    names = {}
    for key, plural in (("flow_schema", "flowschemas"),
                        ("priority_level", "prioritylevelconfigurations")):
        _, body = admin.request("GET", base + plural)
        items = json.loads(body).get("items", [])
        names[key] = next((i["metadata"]["name"] for i in items
                           if i["metadata"]["uid"] == uids[key]), uids[key] or "none (APF off)")
    return names


def py_spy(pid: int) -> subprocess.Popen[bytes] | None:
    """With BENCH_STATUS_PYSPY=FILE, py-spy records the controller (all threads, GIL
    holder marked, collapsed stacks) from the first snapshot to the last write."""
    path = os.environ.get("BENCH_STATUS_PYSPY")
    if not path:
        return None
    spy = str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--gil",
                             "--threads", "--rate", "200", "--output", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Run:
    """One first-install measurement; `measure()` returns the figures."""

    n: int
    started: float
    ready: float
    ports: dict[str, int]
    pids: dict[str, int]
    patch: Callable[[int, str], object]
    api: Any
    counts_before: dict[str, int]
    """The API server's counts before the controller started (api_counts)."""
    probe_lags: list[float] = field(default_factory=list)
    patch_during: dict[str, float] = field(default_factory=dict)

    def measure(self) -> dict[str, Any]:
        clock = WriteClock(self.ports["metrics"], self.n, self.started)
        cpu0 = _sides(self.pids)
        spy = py_spy(self.pids["controller"])
        probe = XdsProbe(self.ports["xds"])
        probe.start()
        stop = threading.Event()
        prober = threading.Thread(target=self._probe_until, args=(probe, stop), daemon=True)
        prober.start()
        deadline = time.perf_counter() + 1200
        while not clock.poll() and time.perf_counter() < deadline:
            time.sleep(POLL)
        cpu1 = _sides(self.pids)
        if spy is not None:
            spy.send_signal(2)  # py-spy writes its profile on SIGINT
            spy.wait(30)
        stop.set()
        prober.join()
        during = list(self.probe_lags)
        self.patch_during = summary(probe.patch_s)
        idle = [probe.lag(functools.partial(self.patch, k, f"/idle{k}x/"), f"/idle{k}x/")
                for k in range(IDLE_PROBES)]
        probe.stop()
        return self._figures(clock, cpu0, cpu1, self.counts_before, during, idle)

    def _probe_until(self, probe: XdsProbe, stop: threading.Event) -> None:
        k = 0
        while not stop.wait(PROBE_EVERY):
            marker = f"/during{k}x/"
            self.probe_lags.append(probe.lag(functools.partial(self.patch, k % 20, marker),
                                             marker))
            k += 1

    def _figures(self, clock: WriteClock, cpu0: dict[str, float], cpu1: dict[str, float],
                 before: dict[str, int], during: list[float], idle: list[float],
                 ) -> dict[str, Any]:
        after = api_counts(self.api)
        if clock.done is None or clock.first is None:
            return {"error": f"only {clock.max_seen} of {self.n} writes seen"}
        window = clock.done - clock.first
        return {
            "done_from_start_s": round(clock.done - self.started, 2),
            "done_from_ready_s": round(clock.done - self.ready, 2),
            "first_from_ready_s": round(clock.first - self.ready, 2),
            "writes_per_s": round(self.n / max(window, 1e-9)),
            "window": ({"min": min(clock.windows), "median": sorted(clock.windows)[
                len(clock.windows) // 2], "max": max(clock.windows)} if clock.windows else {}),
            "cpu_s_ready_to_done": {k: round(cpu1[k] - cpu0[k], 2) for k in cpu0},
            "apiserver": {k: after[k] - before[k] for k in after},
            "watch_probe_during_ms": summary(during),
            "watch_probe_idle_ms": summary(idle),
            "watch_probe_patch_during_ms": self.patch_during,
        }
