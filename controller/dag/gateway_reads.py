"""What the Gateway API processor (gatewayapi.py) reads, and what it hands the builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from controller.dag.gateway_model import GatewayAPIStatus, GatewayService
from controller.dag.gateway_store import GatewayObjects
from controller.dag.model import Route, Secret, ServicePort, TCPProxy
from controller.k8s.objects import Key


class GatewayReads(Protocol):
    """What the processor reads from the store (ObjectStore and deps.Recorder have it)."""

    @property
    def gateway(self) -> GatewayObjects: ...

    def service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def tcp_service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def service_exists(self, key: Key) -> bool: ...

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]: ...


@dataclass(slots=True)
class GatewayResult:
    """Routes per port (host, route), TLS per secure host, passthrough proxies per host."""

    http: list[tuple[str, Route]] = field(default_factory=list)
    https: list[tuple[str, Route]] = field(default_factory=list)
    tls: dict[str, Secret] = field(default_factory=dict)
    tcp: dict[str, TCPProxy] = field(default_factory=dict)
    statuses: list[GatewayAPIStatus] = field(default_factory=list)
    groups: dict[str, ListenerGroup] = field(default_factory=dict)
    """Isolated Gateways: listener name → the contributions of that Gateway port (the
    shared tables above then hold none)."""
    services: list[GatewayService] = field(default_factory=list)
    """Isolated Gateways: the Service each needs."""

    def by_host(self) -> dict[str, GatewayResult]:
        """The contributions split per host (routes in order; no statuses)."""
        out: dict[str, GatewayResult] = {}
        for host, route in self.http:
            out.setdefault(host, GatewayResult()).http.append((host, route))
        for host, route in self.https:
            out.setdefault(host, GatewayResult()).https.append((host, route))
        for host, secret in self.tls.items():
            out.setdefault(host, GatewayResult()).tls[host] = secret
        for host, tcp in self.tcp.items():
            out.setdefault(host, GatewayResult()).tcp[host] = tcp
        return out

    def hosts(self) -> set[str]:
        return {h for h, _ in self.http} | {h for h, _ in self.https} | set(self.tls) | set(
            self.tcp)


@dataclass(slots=True)
class ListenerGroup:
    """One isolated Gateway port: its Envoy listener's name, port and kind, and what the
    routes attached to its listeners contribute (http/https/tls/tcp of `result`)."""

    name: str
    port: int
    secure: bool
    result: GatewayResult = field(default_factory=GatewayResult)
