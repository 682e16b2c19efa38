"""Creates, updates and deletes the isolated Gateways' Services (gateway_services.py), on a
thread of its own, as the leader only.

In: each build's wanted Services (`submit`: records with `namespace`, `name` of the
Gateway and `ports`, (listener port, Envoy port) pairs). Out: API calls that make the
Services in the Envoy Service's namespace match: server-side apply (field manager
`contour-gateway`) of each wanted one that differs, DELETE of ours no Gateway wants.
What exists is LISTed (label OWNED_LABEL) each time the wanted set changes, so a Service
left behind by an earlier controller (or deleted by hand) is found. A failed round is
retried after RETRY_SECONDS.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.k8s.client import ApiError, KubeClient
from controller.k8s.gateway_services import (
    OWNED_LABEL,
    desired_service,
    owned_service,
    service_name,
)
from controller.k8s.objects import Key, as_dict, as_list, as_str

log = logging.getLogger(__name__)
FIELD_MANAGER = "contour-gateway"
RETRY_SECONDS = 5.0
Wanted = tuple[tuple[Key, tuple[tuple[int, int], ...]], ...]


class ServiceRecord(Protocol):
    """dag.gateway_model.GatewayService, which this package may not import."""

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def ports(self) -> tuple[tuple[int, int], ...]: ...


def _services_path(namespace: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/services" + (f"/{name}" if name else "")


@dataclass
class GatewayServiceWriter:
    client: KubeClient
    is_leader: Callable[[], bool]
    envoy_service: Key
    _wanted: Wanted | None = None
    _done: Wanted | None = None
    """What the last successful round made true (None: nothing yet, or leadership lost)."""
    _wake: threading.Condition = field(default_factory=threading.Condition)
    rounds: int = 0

    def submit(self, services: Iterable[ServiceRecord]) -> None:
        wanted = tuple(sorted(((s.namespace, s.name), tuple(s.ports)) for s in services))
        with self._wake:
            if wanted != self._wanted:
                self._wanted = wanted
                self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._wake:  # the timeout bounds how late a newly won lease is noticed
                self._wake.wait_for(lambda: self._due() or stop.is_set(), timeout=1.0)
                wanted = self._wanted if self._due() else None
            if wanted is None:
                continue
            if self.reconcile(wanted):
                self._done = wanted
            else:
                stop.wait(RETRY_SECONDS)

    def _due(self) -> bool:
        if not self.is_leader():
            self._done = None  # on takeover, look again at what exists
            return False
        return self._wanted is not None and self._wanted != self._done

    def reconcile(self, wanted: Wanted) -> bool:
        """One round; False when the API failed (retried)."""
        self.rounds += 1
        ns, name = self.envoy_service
        try:
            envoy = self.client.get_json(_services_path(ns, name), timeout=10.0)
            listed = self.client.get_json(_services_path(ns), query=[
                ("labelSelector", f"{OWNED_LABEL}=true")], timeout=10.0)
            existing = {as_str(as_dict(o.get("metadata")).get("name")): o
                        for o in map(as_dict, as_list(listed.get("items")))}
            desired = {service_name(gw): desired_service(gw, ports, envoy) for gw, ports in wanted}
            for svc_name, manifest in sorted(desired.items()):
                if not _matches(existing.get(svc_name), manifest):
                    self._apply(ns, svc_name, manifest)
            for svc_name in sorted(existing.keys() - desired.keys()):
                self._delete(ns, svc_name)
        except Exception as err:  # noqa: BLE001 - the API is unreachable or refused: retry
            log.warning("gateway services: %s", err)
            return False
        return True

    def _apply(self, namespace: str, name: str, manifest: dict[str, Any]) -> None:
        log.info("gateway services: applying %s/%s", namespace, name)
        self.client.request("PATCH", _services_path(namespace, name),
                            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
                            body=json.dumps(manifest).encode(),
                            content_type="application/apply-patch+yaml", timeout=10.0)

    def _delete(self, namespace: str, name: str) -> None:
        log.info("gateway services: deleting %s/%s", namespace, name)
        try:
            self.client.request("DELETE", _services_path(namespace, name), timeout=10.0)
        except ApiError as err:
            if err.status != 404:
                raise


def _matches(current: dict[str, Any] | None, manifest: dict[str, Any]) -> bool:
    """Whether the existing Service already says what the manifest does (its ports,
    selector, type and Gateway)."""
    if current is None:
        return False
    have, want = owned_service(current), owned_service(manifest)
    spec, want_spec = as_dict(current.get("spec")), manifest["spec"]
    return have is not None and want is not None and (have.gateway, have.ports) == (
        want.gateway, want.ports) and spec.get("selector") == want_spec["selector"] and \
        spec.get("type", "ClusterIP") == want_spec["type"]
