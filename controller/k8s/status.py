"""Writes IngressRoute statuses through the status subresource: only what changed, only
while this replica leads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller.dag.model import Status
from controller.k8s.client import ApiError, KubeClient

log = logging.getLogger(__name__)

Key = tuple[str, str]


def ingressroute_status_path(namespace: str, name: str) -> str:
    return (f"/apis/contour.heptio.com/v1beta1/namespaces/{namespace}/ingressroutes/"
            f"{name}/status")


def stored_status(obj: dict[str, Any] | None) -> tuple[str, str]:
    st = (obj or {}).get("status") or {}
    if not isinstance(st, dict):
        return "", ""
    return str(st.get("currentStatus") or ""), str(st.get("description") or "")


@dataclass
class StatusWriter:
    """Queues the statuses of each build and writes them on a thread of its own.

    `current` returns the status of the IngressRoute as last seen from the API server (None
    when the object is gone), so a status already in place is not written again.
    `is_leader` is read before every write, so losing the lease stops writes at once.
    """

    client: KubeClient
    current: Callable[[str, str], tuple[str, str] | None]
    is_leader: Callable[[], bool]
    _pending: dict[Key, Status] = field(default_factory=dict)
    _written: dict[Key, tuple[str, str]] = field(default_factory=dict)
    _wake: threading.Condition = field(default_factory=threading.Condition)
    writes: int = 0

    def submit(self, statuses: tuple[Status, ...]) -> None:
        with self._wake:
            for s in statuses:
                if s.kind == "IngressRoute":
                    self._pending[(s.namespace, s.name)] = s
            self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._wake:
                self._wake.wait_for(lambda: bool(self._pending) or stop.is_set(), timeout=1.0)
                batch, self._pending = self._pending, {}
            for key in sorted(batch):
                self._write(batch[key])

    def _write(self, status: Status) -> None:
        want = (status.current, status.description)
        seen = self.current(status.namespace, status.name)
        if seen is None or seen == want or not self.is_leader():
            return
        body = {"status": {"currentStatus": want[0], "description": want[1]}}
        try:
            self.client.request("PATCH", ingressroute_status_path(status.namespace, status.name),
                                body=body, content_type="application/merge-patch+json",
                                timeout=10.0)
            self.writes += 1
            self._written[(status.namespace, status.name)] = want
        except ApiError as err:
            if err.status != 404:  # deleted meanwhile: nothing to report on
                log.warning("status of %s/%s: %s", status.namespace, status.name, err)
        except Exception as err:  # noqa: BLE001 - the next build retries
            log.warning("status of %s/%s: %s", status.namespace, status.name, err)
