"""Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection does.

Every replica serves xDS; only the leader writes status. `is_leader()` turns false as soon
as the lease can no longer be renewed within its duration, so a deposed leader stops writing
before another replica may take over.
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


def _parse(ts: str | None) -> float:
    if not ts:
        return 0.0
    text = ts.replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


@dataclass
class LeaderElector:
    client: KubeClient
    namespace: str
    name: str = "contour"
    identity: str = field(default_factory=lambda: str(uuid.uuid4()))
    lease_seconds: int = LEASE_SECONDS
    retry_period: float = RETRY_PERIOD
    _renewed_at: float = 0.0  # monotonic time of our last successful acquire/renew
    transitions: int = 0

    @property
    def path(self) -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases/{self.name}"

    def is_leader(self) -> bool:
        return time.monotonic() - self._renewed_at < min(RENEW_DEADLINE, self.lease_seconds)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            was = self.is_leader()
            try:
                if self._try_acquire_or_renew():
                    self._renewed_at = time.monotonic()
            except Exception as err:  # noqa: BLE001 - retry next period
                log.warning("leader election: %s", err)
            if self.is_leader() != was:
                self.transitions += 1
                log.info("leadership %s (%s)", "acquired" if not was else "lost", self.identity)
            stop.wait(self.retry_period)
        self.release()

    def _try_acquire_or_renew(self) -> bool:
        try:
            lease = self.client.get_json(self.path, timeout=5.0)
        except ApiError as err:
            if err.status != 404:
                raise
            return self._create()
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        expired = time.time() > _parse(spec.get("renewTime")) + int(
            spec.get("leaseDurationSeconds") or self.lease_seconds)
        if holder and holder != self.identity and not expired:
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
            if err.status == 409:
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
            if err.status == 409:
                return False
            raise
        return True

    def release(self) -> None:
        """On a clean stop, give the lease up so another replica takes over at once."""
        if not self.is_leader():
            return
        self._renewed_at = 0.0
        try:
            lease = self.client.get_json(self.path, timeout=5.0)
            if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                lease["spec"]["leaseDurationSeconds"] = 1
                self.client.request("PUT", self.path, body=lease, timeout=5.0)
        except Exception as err:  # noqa: BLE001 - best effort on the way out
            log.info("releasing the lease: %s", err)
