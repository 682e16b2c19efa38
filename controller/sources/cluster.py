"""Cluster source: list + watch every kind the controller reads, on raw JSON.

One thread per kind (the transport is blocking); events cross into the event loop with
`call_soon_threadsafe`. Per kind: list (paged), then watch from the list's resourceVersion
with bookmarks and a client-side read timeout so a silent stall is noticed; a 410 Gone
relists and emits deletes for what vanished meanwhile; errors back off exponentially. While
a watch reconnects, the pipeline keeps serving the last good configuration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from controller.events import Event, ObjectEvent, Synced
from controller.k8s.client import ApiError, KubeClient

log = logging.getLogger(__name__)

READ_TIMEOUT = 75.0  # a watch with no byte (not even a bookmark) for this long is dead
WATCH_SECONDS = 290  # the server ends each watch before our read timeout fires


@dataclass(frozen=True)
class Kind:
    kind: str
    api_version: str
    plural: str
    namespaces: tuple[str, ...] = ()  # empty: cluster-wide

    def paths(self) -> list[str]:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if not self.namespaces:
            return [f"{prefix}/{self.plural}"]
        return [f"{prefix}/namespaces/{ns}/{self.plural}" for ns in self.namespaces]


def watched_kinds(root_namespaces: frozenset[str]) -> list[Kind]:
    """Secrets only in the root namespaces when those are set (spec §1.5)."""
    secret_ns = tuple(sorted(root_namespaces))
    return [
        Kind("IngressRoute", "contour.heptio.com/v1beta1", "ingressroutes"),
        Kind("TLSCertificateDelegation", "contour.heptio.com/v1beta1",
             "tlscertificatedelegations"),
        Kind("Ingress", "networking.k8s.io/v1", "ingresses"),
        Kind("IngressClass", "networking.k8s.io/v1", "ingressclasses"),
        Kind("Service", "v1", "services"),
        Kind("Endpoints", "v1", "endpoints"),
        Kind("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
        Kind("Secret", "v1", "secrets", secret_ns),
    ]


@dataclass
class WatchStats:
    """Per kind: watch restarts and the last successful sync (monotonic), for /metrics."""

    restarts: dict[str, int] = field(default_factory=dict)
    last_sync: dict[str, float] = field(default_factory=dict)
    api_reachable: bool = False


class Gone(Exception):
    """410: the resourceVersion is too old; relist."""


@dataclass
class Watcher:
    """List+watch of one path of one kind, running on its own thread."""

    client: KubeClient
    kind: Kind
    path: str
    emit: Callable[[Event], object]
    stats: WatchStats
    stop: threading.Event
    known: dict[tuple[str, str], str] = field(default_factory=dict)  # key → resourceVersion

    def run(self, on_synced: Callable[[], None]) -> None:
        backoff, synced = 0.5, False
        while not self.stop.is_set():
            try:
                rv = self.relist()
                if not synced:
                    synced = True
                    on_synced()
                backoff = 0.5
                while not self.stop.is_set():
                    rv = self.watch(rv)
            except Gone:
                log.info("%s: resourceVersion expired (410), relisting", self.path)
            except ApiError as err:
                if err.status != 404:
                    self._failed(err, backoff)
                    backoff = min(backoff * 2, 30.0)
                else:  # the kind is not served (CRD missing): empty until it appears
                    log.warning("%s: not served by the API server (404); retrying", self.path)
                    if not synced:
                        synced = True
                        on_synced()
                    self.stop.wait(10.0)
            except Exception as err:  # noqa: BLE001 - reconnect, never die
                self._failed(err, backoff)
                backoff = min(backoff * 2, 30.0)
            self.stats.restarts[self.kind.kind] = self.stats.restarts.get(self.kind.kind, 0) + 1

    def _failed(self, err: Exception, backoff: float) -> None:
        self.stats.api_reachable = False
        log.warning("%s: %s; retrying in %.1fs", self.path, err, backoff)
        self.stop.wait(backoff)

    def relist(self) -> str:
        items, rv = self._list_all()
        current = {_key(o): o for o in items}
        for key in sorted(set(self.known) - set(current)):
            self.emit(ObjectEvent.delete(self.kind.kind, *key))
        for key, obj in sorted(current.items()):
            if self.known.get(key) != _rv(obj):
                self.emit(ObjectEvent.upsert(obj))
        self.known = {k: _rv(o) for k, o in current.items()}
        self.stats.api_reachable = True
        self.stats.last_sync[self.kind.kind] = time.time()
        return rv

    def _list_all(self) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        cont = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", 500)] + ([("continue", cont)] if cont else [])
            try:
                page = self.client.get_json(self.path, query=query, timeout=(5.0, 60.0))
            except ApiError as err:
                if err.status == 410:
                    raise Gone() from err
                raise
            items.extend(self._typed(o) for o in page.get("items") or [])
            cont = (page.get("metadata") or {}).get("continue") or ""
            if not cont:
                return items, str((page.get("metadata") or {}).get("resourceVersion", ""))

    def _typed(self, obj: dict[str, Any]) -> dict[str, Any]:
        # list items carry no kind/apiVersion; the pipeline dispatches on kind
        obj["kind"] = self.kind.kind
        obj["apiVersion"] = self.kind.api_version
        return obj

    def watch(self, rv: str) -> str:
        query = [("watch", "1"), ("resourceVersion", rv), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", WATCH_SECONDS)]
        resp = self.client.open("GET", self.path, query=query, timeout=(5.0, READ_TIMEOUT))
        try:
            if resp.status == 410:
                raise Gone()
            if resp.status != 200:
                raise ApiError(resp.status, resp.read(), f"watch {self.path}")
            for event in _lines(resp):
                if self.stop.is_set():
                    break
                rv = self._handle(event, rv)
        finally:
            resp.release_conn()
        return rv

    def _handle(self, event: dict[str, Any], rv: str) -> str:
        etype, obj = event.get("type"), event.get("object") or {}
        if etype == "ERROR":
            if obj.get("code") == 410:
                raise Gone()
            raise ApiError(int(obj.get("code") or 500), json.dumps(obj).encode(), "watch")
        new_rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
        if etype == "BOOKMARK":
            return new_rv
        obj = self._typed(obj)
        if etype == "DELETED":
            self.known.pop(_key(obj), None)
            self.emit(ObjectEvent.delete(self.kind.kind, *_key(obj)))
        else:
            self.known[_key(obj)] = _rv(obj)
            self.emit(ObjectEvent.upsert(obj))
        return new_rv


def _lines(resp: Any) -> Iterator[dict[str, Any]]:
    buf = b""
    for chunk in resp.stream(64 * 1024, decode_content=True):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


@dataclass
class ClusterSource:
    client: KubeClient
    kinds: list[Kind]
    stats: WatchStats = field(default_factory=WatchStats)
    stop: threading.Event = field(default_factory=threading.Event)

    async def run(self, emit: Callable[[Event], None]) -> None:
        loop = asyncio.get_running_loop()
        watchers = [Watcher(self.client, k, p, lambda e: loop.call_soon_threadsafe(emit, e),
                            self.stats, self.stop) for k in self.kinds for p in k.paths()]
        pending = len(watchers)
        lock = threading.Lock()

        def synced() -> None:
            nonlocal pending
            with lock:
                pending -= 1
                if pending == 0:
                    loop.call_soon_threadsafe(emit, Synced("cluster"))

        threads = [threading.Thread(target=w.run, args=(synced,), daemon=True,
                                    name=f"watch-{w.path}") for w in watchers]
        for t in threads:
            t.start()
        try:
            await asyncio.Event().wait()
        finally:
            self.stop.set()
