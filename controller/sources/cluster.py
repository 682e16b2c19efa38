"""Cluster source: list + watch every kind the controller reads, on raw JSON.

One thread per kind and namespace path (the transport is blocking); events cross into the
event loop with `call_soon_threadsafe`. Per path: list (paged), then watch from the list's
resourceVersion with bookmarks and a client-side read timeout so a silent stall is noticed;
a 410 Gone relists and emits deletes for what vanished meanwhile; errors back off
exponentially. While a watch reconnects, the pipeline keeps serving the last good
configuration (no event means no rebuild).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from controller.events import Event, ObjectEvent, Synced
from controller.k8s.client import ApiError, KubeClient
from controller.k8s.objects import event_kind
from controller.sources.gc_pause import pause_gc
from controller.sources.intake import admit_event

log = logging.getLogger(__name__)

READ_TIMEOUT = 75.0
"""A watch that delivers no byte (not even a bookmark) for this long is dead: reconnect."""
WATCH_SECONDS = (45, 60)
"""The server ends each watch after a jittered 45-60 s, before READ_TIMEOUT: a healthy but
idle watch never looks stalled, with or without bookmarks; re-watching from the last
resourceVersion is cheap (no relist)."""
BACKOFF_MIN, BACKOFF_MAX = 0.5, 10.0
"""Error backoff (doubling, jittered); capped low so a restarted API server is seen soon."""
NOT_SERVED_RETRY = 10.0
"""A kind the API server does not serve (404: CRD missing) is retried this often."""
INITIAL_GC_PAUSE_MAX = 120.0
"""perf (bench/): the cyclic GC is off until the initial lists are queued, at most this
long (a list that keeps failing must not leave it off for good)."""
SOURCE = "cluster"
"""What reports name as the source of a watched object."""


@dataclass(frozen=True)
class Kind:
    kind: str
    api_version: str
    plural: str
    namespaces: tuple[str, ...] = ()  # empty: cluster-wide

    @property
    def event_kind(self) -> str:
        """The kind as events, the store and the watch stats name it (`event_kind`)."""
        return event_kind(self.kind, self.api_version)

    def paths(self) -> list[str]:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if not self.namespaces:
            return [f"{prefix}/{self.plural}"]
        return [f"{prefix}/namespaces/{ns}/{self.plural}" for ns in self.namespaces]


def watched_kinds(root_namespaces: frozenset[str],
                  fallback_certificate: tuple[str, str] | None = None) -> list[Kind]:
    """Every kind the builder reads. Secrets only in the root namespaces when those are set
    (spec §1.5), plus the fallback certificate's namespace, as v1.33 does
    (cmd/contour/serve.go: secretNamespaces).

    The two TLSCertificateDelegation API groups share a kind name; their events are keyed
    apart (`Kind.event_kind`), so a v1beta1 and a v1 delegation of the same namespace and
    name are two objects, both read alike by the store."""
    secret_ns = set(root_namespaces)
    if root_namespaces and fallback_certificate is not None:
        secret_ns.add(fallback_certificate[0])
    return [
        Kind("IngressRoute", "contour.heptio.com/v1beta1", "ingressroutes"),
        Kind("TLSCertificateDelegation", "contour.heptio.com/v1beta1",
             "tlscertificatedelegations"),
        Kind("HTTPProxy", "projectcontour.io/v1", "httpproxies"),
        Kind("TLSCertificateDelegation", "projectcontour.io/v1", "tlscertificatedelegations"),
        Kind("ExtensionService", "projectcontour.io/v1alpha1", "extensionservices"),
        Kind("Ingress", "networking.k8s.io/v1", "ingresses"),
        Kind("IngressClass", "networking.k8s.io/v1", "ingressclasses"),
        Kind("Service", "v1", "services"),
        Kind("Endpoints", "v1", "endpoints"),
        Kind("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
        Kind("Secret", "v1", "secrets", tuple(sorted(secret_ns))),
        *GATEWAY_API_KINDS,
    ]


GATEWAY_API_KINDS = (
    Kind("GatewayClass", "gateway.networking.k8s.io/v1", "gatewayclasses"),
    Kind("Gateway", "gateway.networking.k8s.io/v1", "gateways"),
    Kind("HTTPRoute", "gateway.networking.k8s.io/v1", "httproutes"),
    Kind("GRPCRoute", "gateway.networking.k8s.io/v1", "grpcroutes"),
    Kind("TLSRoute", "gateway.networking.k8s.io/v1", "tlsroutes"),
    # v1beta1: served by every Gateway API release that has ReferenceGrant (v1 since v1.5)
    Kind("ReferenceGrant", "gateway.networking.k8s.io/v1beta1", "referencegrants"),
    Kind("Namespace", "v1", "namespaces"),  # labels, for allowedRoutes selectors
)
"""Gateway API kinds (manifests/05-gateway-api-crds.yaml); without the CRDs they are not
served (404) and stay empty, retried every NOT_SERVED_RETRY."""


@dataclass
class WatchStats:
    """What /healthz and /metrics report about the watches (written by the watch threads;
    single dict/set operations are atomic under the GIL)."""

    restarts: dict[str, int] = field(default_factory=dict)
    """Per kind: relists after a 410 and reconnects after an error."""
    last_sync: dict[str, float] = field(default_factory=dict)
    """Per kind: wall-clock time the kind was last known complete (list, bookmark, clean
    end of a watch)."""
    failing: set[str] = field(default_factory=set)
    """Paths whose last request failed; empty when the API server is reachable."""

    @property
    def api_reachable(self) -> bool:
        return not self.failing

    def restarted(self, kind: str) -> None:
        self.restarts[kind] = self.restarts.get(kind, 0) + 1

    def in_sync(self, kind: str) -> None:
        self.last_sync[kind] = time.time()


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
    listed: bool = False
    """A list has completed once; the first list may come from the watch cache."""
    emit_many: Callable[[list[Event]], object] | None = None
    """perf (bench/): a list's events in one call (one wake-up of the event loop instead
    of one per object); without it, `emit` each."""

    def run(self, on_synced: Callable[[], None]) -> None:
        backoff, synced = BACKOFF_MIN, False
        while not self.stop.is_set():
            try:
                rv = self.relist()
                if not synced:
                    synced = True
                    on_synced()
                backoff = BACKOFF_MIN
                while not self.stop.is_set():
                    rv = self.watch(rv)
            except Gone:
                log.info("%s: resourceVersion expired (410), relisting", self.path)
            except ApiError as err:
                if err.status == 404:  # the kind is not served (CRD missing): empty for now
                    self.stats.failing.discard(self.path)
                    log.warning("%s: not served by the API server (404); retrying", self.path)
                    if not synced:
                        synced = True
                        on_synced()
                    self.stop.wait(NOT_SERVED_RETRY)
                    continue
                backoff = self._failed(err, backoff)
            except Exception as err:  # noqa: BLE001 - reconnect, never die
                backoff = self._failed(err, backoff)
            if not self.stop.is_set():
                self.stats.restarted(self.kind.event_kind)

    def _failed(self, err: Exception, backoff: float) -> float:
        """Mark the path failing, wait, and return the next backoff."""
        self.stats.failing.add(self.path)
        delay = backoff * random.uniform(0.8, 1.2)
        log.warning("%s: %s; retrying in %.1fs", self.path, err, delay)
        self.stop.wait(delay)
        return min(backoff * 2, BACKOFF_MAX)

    def relist(self) -> str:
        items, rv = self._list_all()
        current = {_key(o): o for o in items}
        # deletes first: an object that vanished during a gap must not outlive it
        events: list[Event] = [ObjectEvent.delete(self.kind.event_kind, *key)
                               for key in sorted(set(self.known) - set(current))]
        events += [_admitted(obj) for key, obj in sorted(current.items())
                   if self.known.get(key) != _rv(obj)]
        self._emit_all(events)
        self.known = {k: _rv(o) for k, o in current.items()}
        self.listed = True
        self.stats.failing.discard(self.path)
        self.stats.in_sync(self.kind.event_kind)
        return rv

    def _emit(self, event: Event) -> None:
        if not self.stop.is_set():
            self.emit(event)

    def _emit_all(self, events: list[Event]) -> None:
        if self.stop.is_set() or not events:
            return
        if self.emit_many is not None:
            self.emit_many(events)
        else:
            for event in events:
                self.emit(event)

    def _list_all(self) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        cont = ""
        # perf (bench/): the first list asks for resourceVersion=0, as client-go's reflector
        # does: the API server answers it from its watch cache in one piece (the limit is
        # ignored there), where a paged consistent list of a custom resource may be read
        # from etcd page by page (measured at 10k IngressRoutes: ~0.6 s against up to
        # 1.7 s). It may be slightly stale; the watch from its resourceVersion catches up.
        # Later relists (after a 410 or an error) are consistent reads, as in client-go.
        first: list[tuple[str, Any]] = [] if self.listed else [("resourceVersion", "0")]
        while True:
            query: list[tuple[str, Any]] = [("limit", 500)] + (
                [("continue", cont)] if cont else first)
            try:
                page = self.client.get_json(self.path, query=query, timeout=(5.0, 60.0))
            except ApiError as err:
                if err.status == 410:  # the continue token expired: start over
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
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            # perf (bench/): read by nothing, yet ~1/3 of a listed object's dicts; every
            # stored object would keep it (memory) and the store would copy it around
            meta.pop("managedFields", None)
        return obj

    def watch(self, rv: str) -> str:
        """One watch request from `rv`; returns the last resourceVersion seen when the
        server ends it."""
        query = [("watch", "1"), ("resourceVersion", rv), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", random.randint(*WATCH_SECONDS))]
        resp = self.client.open("GET", self.path, query=query, timeout=(5.0, READ_TIMEOUT))
        finished = False
        try:
            if resp.status == 410:
                raise Gone()
            if resp.status != 200:
                raise ApiError(resp.status, resp.read(), f"watch {self.path}")
            self.stats.failing.discard(self.path)
            for event in _lines(resp):
                if self.stop.is_set():
                    return rv
                rv = self._handle(event, rv)
            finished = True
        finally:
            if not finished:
                # a half-read stream must not go back to the pool: the next request on
                # that connection would read the rest of this watch
                resp.close()
            resp.release_conn()
        self.stats.in_sync(self.kind.event_kind)
        return rv

    def _handle(self, event: dict[str, Any], rv: str) -> str:
        etype, obj = event.get("type"), event.get("object") or {}
        if etype == "ERROR":
            if obj.get("code") == 410:
                raise Gone()
            raise ApiError(int(obj.get("code") or 500), json.dumps(obj).encode(), "watch")
        new_rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
        if etype == "BOOKMARK":
            self.stats.in_sync(self.kind.event_kind)
            return new_rv
        obj = self._typed(obj)
        if etype == "DELETED":
            self.known.pop(_key(obj), None)
            self._emit(ObjectEvent.delete(self.kind.event_kind, *_key(obj)))
        else:
            self.known[_key(obj)] = _rv(obj)
            self._emit(_admitted(obj))
        return new_rv


def _lines(resp: Any) -> Iterator[dict[str, Any]]:
    """Watch events as they arrive. read1 returns whatever is there (a chunk of a chunked
    body, or the bytes a non-chunked stream has sent so far); `stream()` would wait for a
    full buffer on a response without chunked encoding."""
    buf = b""
    while chunk := resp.read1(64 * 1024):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _admitted(obj: dict[str, Any]) -> Event:
    """The object through the validation boundary, as the folder source's objects go."""
    namespace, name = _key(obj)
    return admit_event(obj, source=SOURCE, fallback_name=f"{namespace}/{name}")


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


@dataclass
class ClusterSource:
    client: KubeClient
    kinds: list[Kind]
    stats: WatchStats = field(default_factory=WatchStats)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        for k in self.kinds:  # every kind shows in /metrics from the start
            self.stats.restarts.setdefault(k.event_kind, 0)

    async def run(self, emit: Callable[[Event], None]) -> None:
        loop = asyncio.get_running_loop()

        def threadsafe_emit(event: Event) -> None:
            loop.call_soon_threadsafe(emit, event)

        def emit_each(events: list[Event]) -> None:
            for event in events:
                emit(event)

        def threadsafe_emit_many(events: list[Event]) -> None:
            loop.call_soon_threadsafe(emit_each, events)

        watchers = [Watcher(self.client, k, p, threadsafe_emit, self.stats, self.stop,
                            emit_many=threadsafe_emit_many)
                    for k in self.kinds for p in k.paths()]
        pending = len(watchers)
        lock = threading.Lock()
        resume_gc = pause_gc()
        loop.call_later(INITIAL_GC_PAUSE_MAX, resume_gc)

        def synced() -> None:
            # called by each watcher after its first list, whose events are already
            # queued ahead of this: Synced means every kind is complete
            nonlocal pending
            with lock:
                pending -= 1
                if pending == 0:
                    threadsafe_emit(Synced("cluster"))
                    loop.call_soon_threadsafe(resume_gc, True)  # before the pipeline wakes

        for w in watchers:
            threading.Thread(target=w.run, args=(synced,), daemon=True,
                             name=f"watch-{w.path}").start()
        try:
            await asyncio.Event().wait()
        finally:
            resume_gc()
            self.stop.set()
