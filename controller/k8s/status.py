"""Writes IngressRoute statuses through the status subresource: only what changed, only
while this replica leads.

The statuses come from the builder (`controller.dag.model.Status`), but this package only
talks to the API server and never imports the builder (tests/test_layering.py): what is
written is described by `StatusRecord`, which the builder's statuses satisfy as they are.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from controller.k8s.client import ApiError, KubeClient

log = logging.getLogger(__name__)

Key = tuple[str, str]
RETRY_SECONDS = 1.0


class StatusRecord(Protocol):
    """One object's status as a build decided it (what `StatusWriter` writes)."""

    @property
    def kind(self) -> str: ...

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def current(self) -> str: ...

    @property
    def description(self) -> str: ...


class Observed(NamedTuple):
    """An IngressRoute's status as the watch last showed it, and the object's version."""

    current: str
    description: str
    resource_version: str = ""


def ingressroute_status_path(namespace: str, name: str) -> str:
    return (f"/apis/contour.heptio.com/v1beta1/namespaces/{namespace}/ingressroutes/"
            f"{name}/status")


def stored_status(obj: dict[str, Any] | None) -> tuple[str, str]:
    st = (obj or {}).get("status") or {}
    if not isinstance(st, dict):
        return "", ""
    return str(st.get("currentStatus") or ""), str(st.get("description") or "")


def observed_status(obj: dict[str, Any] | None) -> Observed:
    rv = ((obj or {}).get("metadata") or {}).get("resourceVersion") or ""
    return Observed(*stored_status(obj), str(rv))


WRITERS = 4
WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"


@dataclass
class StatusWriter:
    """Queues the statuses of each build and writes them on a thread of its own.

    `current` returns the IngressRoute as last seen from the API server (None when the
    object is gone), so a status already in place is not written again. `is_leader` is read
    before every write, so losing the lease stops writes at once; on gaining it, the
    statuses of the latest build are written (a follower skipped them).
    """

    client: KubeClient
    current: Callable[[str, str], Observed | None]
    is_leader: Callable[[], bool]
    _pending: dict[Key, StatusRecord] = field(default_factory=dict)
    _latest: dict[Key, StatusRecord] = field(default_factory=dict)
    _sent: dict[Key, tuple[tuple[str, str], str]] = field(default_factory=dict)
    """Per object: the status we last patched and the resourceVersion it was patched over,
    so a rebuild before the watch shows our own write does not patch it again."""
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _leading: bool = False
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(WRITERS, thread_name_prefix="status"))
    """perf: a fresh install has one status per IngressRoute to write; one PATCH at a time
    managed ~370/s at 10k, a few in flight keep the API server busy instead of waiting."""
    writes: int = 0

    def submit(self, statuses: tuple[StatusRecord, ...]) -> None:
        latest = {(s.namespace, s.name): s for s in statuses if s.kind == "IngressRoute"}
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
            ordered = [batch[k] for k in sorted(batch)]
            results = list(self._pool.map(self._write, ordered)) if ordered else []
            self.writes += results.count(WRITTEN)
            failed = {(s.namespace, s.name): s for s, r in zip(ordered, results, strict=True)
                      if r == FAILED}
            if failed:  # API trouble: retry soon, unless a newer build superseded them
                with self._wake:
                    self._pending = {**failed, **self._pending}
                stop.wait(RETRY_SECONDS)

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

    def _write(self, status: StatusRecord) -> str:
        """Patch one status if needed: WRITTEN, SKIPPED, or FAILED (API unreachable)."""
        key = (status.namespace, status.name)
        want = (status.current, status.description)
        seen = self.current(*key)
        if seen is None or (seen.current, seen.description) == want:
            return SKIPPED
        if self._sent.get(key) == (want, seen.resource_version):
            return SKIPPED  # already patched; the watch has not shown it yet
        if not self.is_leader():
            return SKIPPED
        body = {"status": {"currentStatus": want[0], "description": want[1]}}
        try:
            self.client.request("PATCH", ingressroute_status_path(*key), body=body,
                                content_type="application/merge-patch+json", timeout=10.0)
            self._sent[key] = (want, seen.resource_version)
        except ApiError as err:
            if err.status != 404:  # deleted meanwhile: nothing to report on
                log.warning("status of %s/%s: %s", *key, err)
            return SKIPPED if err.status < 500 else FAILED
        except Exception as err:  # noqa: BLE001 - retried by run()
            log.warning("status of %s/%s: %s", *key, err)
            return FAILED
        return WRITTEN
