"""Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection does.

Every replica serves xDS; only the leader writes status. A follower judges a lease expired
by its own clock: the lease must not have changed for `leaseDurationSeconds` since this
replica last saw it change (never by comparing `renewTime` with its wall clock, which may
be skewed). The leader's `is_leader()` turns false once it has not renewed for
`renew_deadline` (< the lease duration), so a deposed leader has stopped writing before
anyone else can take over.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from controller.k8s.client import ApiError, KubeClient

log = logging.getLogger(__name__)

LEASE_SECONDS = 15
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LeaderElector:
    client: KubeClient
    namespace: str
    name: str = "contour"
    identity: str = field(default_factory=lambda: str(uuid.uuid4()))
    lease_seconds: int = LEASE_SECONDS
    renew_deadline: float = RENEW_DEADLINE
    retry_period: float = RETRY_PERIOD
    transitions: int = 0
    _renewed_at: float | None = None  # monotonic time of our last successful acquire/renew
    _observed: tuple[str, str, int] = ("", "", 0)  # holder, renewTime, duration last read
    _observed_at: float = 0.0  # monotonic time `_observed` last changed
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: bool = False

    @property
    def path(self) -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases/{self.name}"

    def is_leader(self) -> bool:
        at = self._renewed_at
        return at is not None and time.monotonic() - at < self.renew_deadline

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.round()
            stop.wait(self.retry_period)
        self.release()

    def round(self) -> None:
        """One acquire-or-renew attempt."""
        with self._lock:
            if self._released:
                return
            was = self.is_leader()
            try:
                if self._try_acquire_or_renew():
                    self._renewed_at = time.monotonic()
            except Exception as err:  # noqa: BLE001 - retry next period
                log.warning("leader election: %s", err)
            if self.is_leader() != was:
                self.transitions += 1
                log.info("leadership %s (%s)", "lost" if was else "acquired", self.identity)

    def _try_acquire_or_renew(self) -> bool:
        try:
            lease = self.client.get_json(self.path, timeout=5.0)
        except ApiError as err:
            if err.status != 404:
                raise
            return self._create()
        spec = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        duration = int(spec.get("leaseDurationSeconds") or self.lease_seconds)
        observed = (holder, str(spec.get("renewTime") or ""), duration)
        now = time.monotonic()
        if observed != self._observed:
            self._observed, self._observed_at = observed, now
        if holder and holder != self.identity and now - self._observed_at < duration:
            self._renewed_at = None  # someone else holds it: not us, whatever we thought
            return False
        return self._update(lease, holder)

    def _spec(self, acquire: str | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"holderIdentity": self.identity,
                                "leaseDurationSeconds": self.lease_seconds, "renewTime": _now()}
        if acquire:
            spec["acquireTime"] = acquire
        return spec

    def _create(self) -> bool:
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(_now())}
        try:
            self.client.request("POST", self.path.rsplit("/", 1)[0], body=body, timeout=5.0)
        except ApiError as err:
            if err.status == 409:  # another replica created it first
                return False
            raise
        return True

    def _update(self, lease: dict[str, Any], holder: str) -> bool:
        spec = dict(lease.get("spec") or {})
        spec.update(self._spec(None if holder == self.identity else _now()))
        if holder != self.identity:
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        lease["spec"] = spec  # the resourceVersion in metadata makes this a compare-and-swap
        try:
            self.client.request("PUT", self.path, body=lease, timeout=5.0)
        except ApiError as err:
            if err.status == 409:  # changed under us (another replica won): not ours
                self._renewed_at = None
                return False
            raise
        return True

    def release(self) -> None:
        """On a clean stop: stop leading at once and give the lease up, so another replica
        takes over within one retry period instead of a lease duration."""
        with self._lock:
            self._released = True
            if self._renewed_at is None:
                return
            self._renewed_at = None
            try:
                lease = self.client.get_json(self.path, timeout=5.0)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") == self.identity:
                    spec.update({"holderIdentity": "", "leaseDurationSeconds": 1,
                                 "renewTime": _now()})
                    lease["spec"] = spec
                    self.client.request("PUT", self.path, body=lease, timeout=5.0)
                    log.info("released the lease (%s)", self.identity)
            except Exception as err:  # noqa: BLE001 - best effort on the way out
                log.info("releasing the lease: %s", err)
