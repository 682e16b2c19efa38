"""A Service as the store keeps it: its ports, ready to drop into clusters (store.py)."""

from __future__ import annotations

from controller.dag.model import Protocol, ServicePort
from controller.k8s import annotations as ann
from controller.k8s.objects import valid_hostname
from controller.k8s.views import ServiceView
from controller.records import record


@record
class StoredService:
    """A Service's ports, ready to drop into clusters: HTTP flavour (upstream protocol and
    ExternalName honoured), and TCP flavour (neither honoured, §1.6), in spec order; the
    first port of a number (or name) is the one found. memory: tuples scanned, not dicts
    (a Service has a few ports; three dicts each were ~30 MB at 50k, bench/memory.py)."""

    http: tuple[ServicePort, ...] = ()
    tcp: tuple[ServicePort, ...] = ()

    def http_port(self, number: int) -> ServicePort | None:
        return next((p for p in self.http if p.port == number), None)

    def http_port_named(self, name: str) -> ServicePort | None:
        return next((p for p in self.http if name and p.port_name == name), None)

    def tcp_port(self, number: int) -> ServicePort | None:
        return next((p for p in self.tcp if p.port == number), None)


def stored_service(view: ServiceView) -> StoredService:
    a = view.annotations
    protocols = ann.upstream_protocols(a)
    limits = (
        ann.circuit_breaker(a, ann.MAX_CONNECTIONS),
        ann.circuit_breaker(a, ann.MAX_PENDING_REQUESTS),
        ann.circuit_breaker(a, ann.MAX_REQUESTS),
        ann.circuit_breaker(a, ann.MAX_RETRIES),
    )
    external = view.external_name.lower() if view.type == "ExternalName" else ""
    # An ExternalName Service without a usable DNS name would give Envoy an invalid
    # STRICT_DNS cluster: treat its ports as missing for HTTP routes.
    http_ok = view.type != "ExternalName" or valid_hostname(external)
    ns, name = view.namespace, view.name
    http: list[ServicePort] = []
    tcp: list[ServicePort] = []
    for p in view.ports:
        # perf: ServicePort(...) directly, not dataclasses.replace(): a third of a cold
        # start's Service handling at 10k was replace()'s field introspection.
        tcp.append(ServicePort(ns, name, p.port, p.name, Protocol.HTTP1, "", *limits))
        if not http_ok:
            continue
        protocol = Protocol(protocols.get(p.name) or protocols.get(str(p.port), ""))
        # memory: a plain port is the same ServicePort for both flavours
        http.append(tcp[-1] if protocol is Protocol.HTTP1 and not external else ServicePort(
            ns, name, p.port, p.name, protocol, external, *limits))
    tcp_ports = tuple(tcp)
    same = len(http) == len(tcp) and all(h is t for h, t in zip(http, tcp, strict=True))
    return StoredService(tcp_ports if same else tuple(http), tcp_ports)
