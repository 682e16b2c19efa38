"""Writes IngressRoute, HTTPProxy and Gateway API statuses (gateway_status.py) through the
status subresource: only what changed, only while this replica leads.

The statuses come from the builder (`controller.dag.model.Status`), but this package only
talks to the API server and never imports the builder (tests/test_layering.py): what is
written is described by `StatusRecord`, which the builder's statuses satisfy as they are.
An HTTPProxy's status is v1.33's: currentStatus, description and the conditions
(conditions.py) with observedGeneration and lastTransitionTime; it counts as changed
when anything but lastTransitionTime differs (upstream's isStatusEqual).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from controller.k8s import gateway_status as gws
from controller.k8s import inflight
from controller.k8s.client import ApiError, KubeClient
from controller.k8s.conditions import (
    ConditionRecord,
    ObjectRecord,
    comparable,
    condition_dict,
    with_transition_times,
)

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # kind, namespace, name
RETRY_SECONDS = 1.0
STATUS_PATHS = {
    "IngressRoute": "/apis/contour.heptio.com/v1beta1/namespaces/{}/ingressroutes/{}/status",
    "HTTPProxy": "/apis/projectcontour.io/v1/namespaces/{}/httpproxies/{}/status",
    "ExtensionService":
        "/apis/projectcontour.io/v1alpha1/namespaces/{}/extensionservices/{}/status",
}
"""The kinds whose status is written, and where."""


class StatusRecord(ObjectRecord, Protocol):
    """One object's status as a build decided it (what `StatusWriter` writes)."""

    @property
    def current(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def conditions(self) -> Sequence[ConditionRecord]: ...


class Observed(NamedTuple):
    """An object's status as the watch last showed it, and the object's version."""

    current: str
    description: str
    resource_version: str = ""
    conditions: tuple[dict[str, Any], ...] = ()
    generation: int | None = None
    status: dict[str, Any] = {}  # noqa: RUF012 - never mutated
    """The whole stored `status` (Gateway API kinds are compared and merged on it)."""


def status_path(kind: str, namespace: str, name: str) -> str:
    path = STATUS_PATHS.get(kind) or gws.GATEWAY_STATUS_PATHS[kind]
    return path.format(namespace, name)


WRITTEN_KINDS = frozenset({*STATUS_PATHS, *gws.GATEWAY_STATUS_PATHS})
"""Every kind whose status the writer writes (and whose stored status it reads)."""


def observed_status(obj: dict[str, Any] | None) -> Observed:
    """What the object's stored status says (tolerant: any shape reads as something)."""
    meta = (obj or {}).get("metadata") or {}
    st = (obj or {}).get("status") or {}
    st = st if isinstance(st, dict) else {}
    conditions = st.get("conditions")
    generation = meta.get("generation")
    return Observed(
        str(st.get("currentStatus") or ""), str(st.get("description") or ""),
        str(meta.get("resourceVersion") or ""),
        tuple(c for c in conditions if isinstance(c, dict)) if isinstance(conditions, list)
        else (),
        generation if isinstance(generation, int) and not isinstance(generation, bool) else None,
        st,
    )  # fmt: skip


def wanted_status(status: StatusRecord, generation: int | None) -> dict[str, Any]:
    """The `status` to write, without lastTransitionTime; for HTTPProxy also the conditions
    and `loadBalancer: {}` (v1.33's HTTPProxyStatus.LoadBalancer is a struct, which Go's
    `omitempty` never omits, so upstream always writes it); for ExtensionService only the
    conditions (v1alpha1 has no currentStatus)."""
    if status.kind == "ExtensionService":
        return {"conditions": [condition_dict(c, generation) for c in status.conditions]}
    out: dict[str, Any] = {"currentStatus": status.current, "description": status.description}
    if status.kind == "HTTPProxy":
        out["loadBalancer"] = {}
        out["conditions"] = [condition_dict(c, generation) for c in status.conditions]
    return out


def is_current(wanted: dict[str, Any], seen: Observed) -> bool:
    """Whether the stored status already says what `wanted` says (lastTransitionTime aside)."""
    if (seen.current, seen.description) != (wanted.get("currentStatus", ""),
                                             wanted.get("description", "")):
        return False
    return "conditions" not in wanted or comparable(seen.conditions) == comparable(
        wanted["conditions"])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


WRITTEN, SKIPPED, FAILED, BUSY = "written", "skipped", "failed", "busy"


Answer = tuple["StatusRecord", str, float]
"""A finished PATCH: the status, its outcome, its latency (or the pause it asks for)."""


class Patch(NamedTuple):
    """One status PATCH to send: the object, the `status` body, and what `_sent` records
    once it is accepted (the status's fingerprint, the resourceVersion it goes over)."""

    key: Key
    status: dict[str, Any]
    fingerprint: str
    resource_version: str


@dataclass
class StatusWriter:
    """Queues the statuses of each build and writes them on a thread of its own.

    `current(kind, namespace, name)` returns the object's status as last seen from the API
    server (None when the object is gone), so a status already in place is not written
    again. `is_leader` is read before every write, so losing the lease stops writes at
    once; on gaining it, the statuses of the latest build are written (a follower skipped
    them).
    """

    client: KubeClient
    current: Callable[[str, str, str], Observed | None]
    is_leader: Callable[[], bool]
    _pending: dict[Key, StatusRecord] = field(default_factory=dict)
    _latest: dict[Key, StatusRecord] = field(default_factory=dict)
    _sent: dict[Key, tuple[str, str]] = field(default_factory=dict)
    """Per object: the status we last patched and the resourceVersion it was patched over,
    so a rebuild before the watch shows our own write does not patch it again."""
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _leading: bool = False
    window: inflight.Window = field(default_factory=inflight.Window)
    """How many PATCHes are in flight at most (follows their latency: inflight.py)."""
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        inflight.HIGH, thread_name_prefix="status"))
    """perf: a fresh install has one status per IngressRoute to write; one PATCH at a time
    managed ~370/s at 10k; PATCHes in flight keep the API server busy instead of waiting."""
    writes: int = 0
    """Statuses the API server accepted, counted as each write lands (the bench times
    the last one by it)."""
    now: Callable[[], str] = _now
    """The lastTransitionTime of a condition whose status changed (RFC 3339, UTC)."""
    gateway_controller: str = "projectcontour.io/gateway-controller"
    """Our `controllerName` in routes' status.parents (others' entries are kept)."""

    def submit(self, statuses: tuple[StatusRecord, ...],
               gateway: tuple[gws.GatewayStatusRecord, ...] = ()) -> None:
        """The statuses of a build: IngressRoute/HTTPProxy ones and Gateway API ones."""
        latest: dict[Key, Any] = {(s.kind, s.namespace, s.name): s for s in statuses
                                  if s.kind in STATUS_PATHS}
        latest.update(((s.kind, s.namespace, s.name), s) for s in gateway
                      if s.kind in gws.GATEWAY_STATUS_PATHS)
        with self._wake:
            self._latest = latest
            self._pending.update(latest)
            self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._wake:
                # the timeout bounds how late a newly won lease is noticed
                self._wake.wait_for(lambda: bool(self._pending) or stop.is_set(), timeout=1.0)
                batch = self._take()
            retry, pause = self.write_batch([batch[k] for k in sorted(batch)])
            if retry:  # API trouble: retry soon, unless a newer build superseded them
                with self._wake:
                    self._pending = {**retry, **self._pending}
                stop.wait(pause)

    def _take(self) -> dict[Key, StatusRecord]:
        """The statuses to write now (caller holds the lock)."""
        leading, was = self.is_leader(), self._leading
        self._leading = leading
        if not leading:
            self._pending = {}  # the leader writes them; on takeover we start from _latest
            return {}
        batch = dict(self._latest) if not was else self._pending
        self._pending = {}
        self._sent = {k: v for k, v in self._sent.items() if k in self._latest}
        return batch

    def write_batch(self, ordered: list[StatusRecord]) -> tuple[dict[Key, StatusRecord], float]:
        """Write the statuses that need it, at most `window.limit` PATCHes in flight.

        In: a batch in order. Out: the statuses to retry and the seconds to wait first
        (a 5xx or an unreachable server: RETRY_SECONDS; a 429: its Retry-After, and what
        the batch had not sent yet is retried too). perf: the checks run here, so only a
        real write is handed to a pool thread (a rebuild re-submits all 10k statuses);
        answers come back on one queue (`concurrent.futures.wait` per answer was 0.3 s of
        the GIL for 10k writes)."""
        answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
        retry: dict[Key, StatusRecord] = {}
        pause, busy, in_flight = 0.0, False, 0
        for status in ordered:
            while in_flight >= self.window.limit:
                pause, busy = self._settle(answers.get(), retry, pause, busy)
                in_flight -= 1
            if busy:  # pushed back (429): what is left waits for the next round
                retry[(status.kind, status.namespace, status.name)] = status
                continue
            patch = self._prepare(status)
            if patch is not None:
                self._pool.submit(self._answer, patch, status, answers)
                in_flight += 1
        for _ in range(in_flight):
            pause, busy = self._settle(answers.get(), retry, pause, busy)
        return retry, pause

    def _answer(self, patch: Patch, status: StatusRecord, answers: queue.SimpleQueue[Answer],
                ) -> None:
        """On a pool thread: send `patch`, put what came of it on `answers` (always)."""
        outcome: tuple[str, float] = (FAILED, RETRY_SECONDS)
        try:
            outcome = self._send(patch)
        finally:
            answers.put((status, *outcome))

    def _settle(self, answer: Answer, retry: dict[Key, StatusRecord], pause: float,
                busy: bool) -> tuple[float, bool]:
        """One finished PATCH: count it, feed the window, note a retry (in place). Out:
        `pause` raised to the pause it asks for, `busy` set if it got a 429."""
        status, outcome, seconds = answer  # seconds: the latency, or the pause asked for
        if outcome == WRITTEN:
            self.writes += 1
            self.window.ok(seconds)
        elif outcome in (FAILED, BUSY):
            self.window.overloaded()
            retry[(status.kind, status.namespace, status.name)] = status
            pause, busy = max(pause, seconds), busy or outcome == BUSY
        return pause, busy

    def _write(self, status: StatusRecord) -> str:
        """One status written on the calling thread, outside any batch (tests): WRITTEN,
        SKIPPED, FAILED or BUSY."""
        patch = self._prepare(status)
        return SKIPPED if patch is None else self._send(patch)[0]

    def _prepare(self, status: StatusRecord) -> Patch | None:
        """The PATCH one status needs, or None (nothing to write, or not leading).

        perf: the latest submission's status for the object is written, not the one the
        batch was taken with. A 10k first install takes seconds to write, and meanwhile the
        Envoys ACK (an HTTPProxy's Programmed condition turns True): writing the batch's
        stale copy, then the new one, was two writes per object. An object the latest
        submission left out (an HTTPProxy waiting for its Envoys) keeps its stored status.
        This runs just before the PATCH is handed over (at most `window.limit` ahead)."""
        key = (status.kind, status.namespace, status.name)
        latest = self._latest.get(key)
        seen = self.current(*key)
        if seen is None or latest is None:
            return None
        status = latest
        gateway_kind = status.kind in gws.GATEWAY_STATUS_PATHS
        if gateway_kind:
            want = gws.wanted(status, seen.generation, seen.status,  # type: ignore[arg-type]
                              self.gateway_controller)
            if gws.is_current(want, seen.status):
                return None
        else:
            want = wanted_status(status, seen.generation)
            if is_current(want, seen):
                return None
        fingerprint = json.dumps(want, sort_keys=True)
        if self._sent.get(key) == (fingerprint, seen.resource_version):
            return None  # already patched; the watch has not shown it yet
        if not self.is_leader():
            return None
        if gateway_kind:
            want = gws.with_times(want, seen.status, self.now())
        elif "conditions" in want:
            want["conditions"] = with_transition_times(want["conditions"], seen.conditions,
                                                       self.now())
        return Patch(key, want, fingerprint, seen.resource_version)

    def _send(self, patch: Patch) -> tuple[str, float]:
        """PATCH one status (on a pool thread). Out: WRITTEN and the seconds it took,
        or SKIPPED (gone, or refused for good: logged), FAILED (5xx, unreachable) or BUSY
        (429) and the seconds to wait before a retry."""
        key = patch.key
        started = time.perf_counter()
        try:
            self.client.request("PATCH", status_path(*key), body={"status": patch.status},
                                content_type="application/merge-patch+json", timeout=10.0)
        except ApiError as err:
            if err.status == 429:  # API Priority and Fairness: our priority level is full
                return BUSY, inflight.pause_for(err.retry_after)
            if err.status != 404:  # deleted meanwhile: nothing to report on
                log.warning("status of %s %s/%s: %s", *key, err)
            return (SKIPPED, 0.0) if err.status < 500 else (FAILED, RETRY_SECONDS)
        except Exception as err:  # noqa: BLE001 - retried by run()
            log.warning("status of %s %s/%s: %s", *key, err)
            return FAILED, RETRY_SECONDS
        self._sent[key] = (patch.fingerprint, patch.resource_version)
        return WRITTEN, time.perf_counter() - started
