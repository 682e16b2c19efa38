"""`bench.bench layouts`: route layouts through a real Envoy (issue 12 item 4).

    python -m bench.bench layouts --n 50000 --layout single|scoped|scoped-inline|vhds --changes 20

The translator's real output for bench/generate.py's N IngressRoutes (Controller + Pipeline
in this process, as `inproc`) is re-expressed in the layout (bench/route_layouts.py) and
served by the project's own xDS server (controller/xds, delta ADS) from a SnapshotCache of
its own to a real Envoy. Measured:

- cold: Envoy start → the last host served (and every 500th host checked served), Envoy's
  CPU seconds until then and its RSS;
- change: one host's prefix rewrite published (the layout's resources built and put in the
  cache) → the first request through Envoy showing it, p50/p99 over `changes`; of it, the
  controller's part (published → the last response of the change handed to gRPC), and the
  bytes of the resources one change sends;
- probes (correctness of the layout): the status through Envoy for `Host: h:8080`, an upper
  case `Host`, and an unknown host;
- fallback (scoped layouts): the switch back to one table when a `*` vhost appears
  (listener `rds` again) → an unknown host served on a new connection, and what a
  keep-alive connection opened before the switch answers while the scopes are still served
  and after they are removed (Envoy drains the old filter chain's connections instead of
  moving them to the new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench import generate
from bench.bench import (
    Envoy,
    Poller,
    cpu_seconds,
    free_port,
    rewritten,
    served,
    start_backend,
    summary,
)
from bench.route_layouts import Resources, layout


def translated(n: int, backend_port: int, http_port: int) -> Resources:
    """The controller's snapshot bodies for N IngressRoutes, `{type_url: {name: bytes}}`."""
    from controller.app import Controller, tune_gc
    from controller.config import ListenerSettings, Settings
    from controller.events import Synced
    from controller.sources.intake import admit_event

    tune_gc()
    listeners = ListenerSettings(http_port=http_port, https_port=free_port(),
                                 http_access_log="/dev/null", https_access_log="/dev/null",
                                 stats_port=free_port())
    controller = Controller(Settings(listeners=listeners, insecure=True))
    objs = generate.objects(n, backend_port=backend_port)
    controller.pipeline().process([admit_event(o, source="bench", fallback_name=str(i))
                                   for i, o in enumerate(objs)] + [Synced("bench")])
    snapshot = controller.cache.snapshot
    return {t: {name: r.body for name, r in snapshot.get(t).resources.items()}
            for t in snapshot.types}


class StampedRegistry:
    """A NodeRegistry that notes when each response was handed to gRPC."""

    @staticmethod
    def make() -> Any:
        from controller.xds.registry import NodeRegistry

        class Stamped(NodeRegistry):
            last_sent = 0.0

            def record_sent(self, node_id: str, type_url: str, version: str) -> None:
                self.last_sent = time.perf_counter()
                super().record_sent(node_id, type_url, version)

        return Stamped()


async def run_layouts(n: int, changes: int, name: str, *,
                      lowercase: bool = False) -> dict[str, Any]:
    """Cold start, changes and probes through one Envoy for layout `name` (`lowercase`:
    scoped layouts lowercase `:authority` first, bench/route_layouts.py)."""
    backend_port, http_port = free_port(), free_port()
    chosen = layout(name, translated(n, backend_port, http_port), lowercase=lowercase)
    gc.collect()
    cold = chosen.cold()
    out: dict[str, Any] = {"bench": "layouts", "layout": name, "n": n, "lowercase": lowercase,
                           "cold_bytes": {t.rsplit(".", 1)[1]: sum(map(len, r.values()))
                                          for t, r in cold.items()}}
    async with serving(cold, backend_port, http_port) as (cache, registry, envoy):
        del cold
        poller = Poller(http_port)
        await measure_cold(envoy, poller, n, out)
        out["probes"] = await asyncio.to_thread(probes, poller)
        out["envoy_cpu_us_per_request"] = await asyncio.to_thread(request_cost, envoy, poller)
        out.update(await measure_changes(chosen, cache, registry, poller, n, changes))
        out["envoy_memory"] = envoy.memory()
        if hasattr(chosen, "fallback"):
            out["fallback"] = await measure_fallback(chosen, cache, http_port)
    return out


@contextlib.asynccontextmanager
async def serving(resources: Resources, backend_port: int,
                  http_port: int) -> AsyncIterator[tuple[Any, Any, Envoy]]:
    """`resources` published in a SnapshotCache of its own, served by the project's xDS
    server (delta ADS; the registry stamps each response handed to gRPC), a backend on
    `backend_port`, and an Envoy bootstrapped to that server with its HTTP listener on
    `http_port`, not started yet (the caller times its start): (cache, registry, envoy).
    All three are stopped at exit."""
    from controller.xds.server import XdsServer
    from controller.xdscache.snapshot import SnapshotCache

    cache = SnapshotCache()
    cache.publish(resources)
    cache.mark_ready()
    registry = StampedRegistry.make()
    server = XdsServer(cache, registry)
    port = await server.start("127.0.0.1", 0)
    backend = start_backend(backend_port)
    envoy = Envoy(port, Path(tempfile.mkdtemp(prefix="contour-layouts-")))
    envoy.http_port = http_port
    try:
        yield cache, registry, envoy
    finally:
        envoy.stop()
        backend.shutdown()
        await server.stop(0)


async def measure_cold(envoy: Envoy, poller: Poller, n: int, out: dict[str, Any]) -> None:
    """Envoy start → last host served; then every 500th host must be served too."""
    t = time.perf_counter()
    envoy.start()
    first = await asyncio.to_thread(poller.wait, generate.host(n - 1), served,
                                    timeout=600, interval=0.02)
    out["cold_envoy_start_to_last_host_s"] = round(first - t, 3)
    assert envoy.proc is not None
    out["cold_envoy_cpu_s"] = cpu_seconds(envoy.proc.pid)
    for i in range(0, n, 500):
        await asyncio.to_thread(poller.wait, generate.host(i), served, timeout=60)
    out["envoy_memory_after_cold"] = envoy.memory()


def probes(poller: Poller) -> dict[str, int]:
    """Statuses through Envoy for host 0 with a port, in upper case, and an unknown host."""
    host = generate.host(0)
    return {"port": poller.get(f"{host}:8080")[0], "upper": poller.get(host.upper())[0],
            "unknown": poller.get("nobody.example.org")[0]}


def request_cost(envoy: Envoy, poller: Poller, requests: int = 5000) -> float:
    """Envoy's CPU µs per proxied request, over `requests` keep-alive GETs for host 0."""
    assert envoy.proc is not None
    before = cpu_seconds(envoy.proc.pid)
    for _ in range(requests):
        poller.get(generate.host(0))
    return round((cpu_seconds(envoy.proc.pid) - before) / requests * 1e6, 1)


async def measure_changes(chosen: Any, cache: Any, registry: Any, poller: Poller, n: int,
                          changes: int) -> dict[str, Any]:
    """`changes` prefix rewrites, round robin over 20 hosts: published → visible, and
    published → last response handed to gRPC (the controller's part)."""
    import random

    lat, own, sent = [], [], []
    for k in range(changes):
        host, prefix = generate.host(k % min(n, 20)), f"/r{k}x/"
        t = time.perf_counter()
        update = chosen.change(host, prefix)
        cache.publish(update, partial=True)
        seen = await asyncio.to_thread(poller.wait, host, rewritten(prefix), timeout=60)
        lat.append(seen - t)
        own.append(registry.last_sent - t)
        sent.append(sum(len(b) for r in update.values() for b in r.values()))
        await asyncio.sleep(random.uniform(0.1, 0.3))
    return {"change_to_envoy_ms": summary(lat), "controller_part_ms": summary(own),
            "change_bytes": max(sent)}


async def measure_fallback(chosen: Any, cache: Any, http_port: int) -> dict[str, Any]:
    """Scoped → one table with a `*` vhost, the scopes kept at first: published → a new
    connection serves `nobody.example.org`; what a connection opened before the switch
    answers while the scopes are kept, and once they are removed."""
    old, known, unknown = Poller(http_port), generate.host(1), "nobody.example.org"
    out: dict[str, Any] = {"old_connection_before": old.get(unknown)[0]}
    changed, removed = chosen.fallback(generate.host(0))
    t = time.perf_counter()
    cache.publish(changed, partial=True)
    fresh = await asyncio.to_thread(_new_connection_serves, http_port, unknown)
    out["switch_to_new_connection_served_ms"] = round((fresh - t) * 1000, 1)
    await asyncio.sleep(1)
    out["old_connection_scopes_kept"] = {"known": old.get(known)[0],
                                         "unknown": old.get(unknown)[0]}
    cache.publish({}, partial=True, removed=removed)
    await asyncio.sleep(1)
    out["old_connection_scopes_removed"] = {"known": old.get(known)[0],
                                            "unknown": old.get(unknown)[0]}
    return out


def _new_connection_serves(port: int, host: str, timeout: float = 120) -> float:
    """perf_counter time at which a request on a new connection for `host` got a 200."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if Poller(port).get(host)[0] == 200:
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(f"{host} not served after the switch")
