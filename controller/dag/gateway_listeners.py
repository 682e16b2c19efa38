"""The served Gateway's listeners: which are usable, their TLS certificates, and the
Gateway's and listeners' statuses (conditions with the spec's reasons).

In: the Gateway's view and the store's reads. Out: one `Listener` per listener (in the
Gateway's order) that routes attach to (gateway_attach.py), then `gateway_status`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from controller.dag.gateway_model import (
    GatewayAPIStatus,
    GatewayCondition,
    ListenerStatus,
    condition,
)
from controller.dag.gateway_reads import GatewayReads
from controller.dag.gateway_refs import granted, hostnames
from controller.dag.model import Secret
from controller.k8s.gateway_views import GatewayView, ListenerView
from controller.k8s.objects import GATEWAY, GATEWAY_GROUP, GRPCROUTE, HTTPROUTE, TLSROUTE

PORTS = {"HTTP": 80, "HTTPS": 443, "TLS": 443}
"""Static provisioning: the one port each protocol is served on (module docstring of
gatewayapi.py)."""
_HTTP_KINDS = ((GATEWAY_GROUP, GRPCROUTE), (GATEWAY_GROUP, HTTPROUTE))
ROUTE_KINDS = {"HTTP": _HTTP_KINDS, "HTTPS": _HTTP_KINDS, "TLS": ((GATEWAY_GROUP, TLSROUTE),)}


@dataclass(slots=True)
class Listener:
    view: ListenerView
    kinds: tuple[tuple[str, str], ...]
    accepted: GatewayCondition
    resolved: GatewayCondition
    conflicted: GatewayCondition = condition("Conflicted", False, "NoConflicts")
    secret: Secret | None = None
    attached: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def attachable(self) -> bool:
        """Routes attach to it (and count in attachedRoutes), even with unresolved refs:
        the spec's (conformance GatewayWithAttachedRoutes, "unresolved refs")."""
        return self.accepted.status == "True" and self.conflicted.status == "False"

    @property
    def usable(self) -> bool:
        """Routes attach to it and Envoy serves it: its refs resolve, or only some of its
        allowedRoutes kinds are not supported (the others are still served)."""
        return self.attachable and (self.resolved.status == "True" or (
            self.resolved.reason == "InvalidRouteKinds" and bool(self.kinds)))

    def hosts_for(self, route_hostnames: tuple[str, ...]) -> list[str]:
        return hostnames(self.view.hostname, route_hostnames)

    def status(self) -> ListenerStatus:
        ok = self.usable
        programmed = condition("Programmed", ok, "Programmed" if ok else "Invalid")
        return ListenerStatus(self.view.name, tuple(sorted(self.kinds)), len(self.attached),
                              tuple(sorted((self.accepted, self.conflicted, programmed,
                                            self.resolved))))


def _accepted(view: ListenerView, isolated: bool) -> GatewayCondition:
    """What the listener asks that is not served, the protocol and TLS mode (the spec's
    UnsupportedValue: conformance TLSRouteListenerTerminateNotSupported) before the port
    (isolated Gateways have Envoy listeners on any port; shared ones on 80 and 443)."""
    port = PORTS.get(view.protocol)
    if port is None:
        return condition("Accepted", False, "UnsupportedProtocol",
                         f"protocol {view.protocol!r} is not supported")
    if _terminates_tls_route(view):
        return condition("Accepted", False, "UnsupportedValue",
                         "TLS listeners support mode Passthrough only")
    if view.port != port and not isolated:
        return condition("Accepted", False, "PortUnavailable",
                         f"static provisioning serves {view.protocol} on port {port} only")
    return condition("Accepted", True, "Accepted")


def _terminates_tls_route(view: ListenerView) -> bool:
    """A TLS listener with mode Terminate: no route kind is served there."""
    return view.protocol == "TLS" and view.tls_mode != "Passthrough"


def _kinds(view: ListenerView) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The supported route kinds, and whether every kind asked for is one. A TLS listener
    in mode Terminate supports none: its supportedKinds is empty (the suite's
    TLSRouteListenerTerminateNotSupported wants it so)."""
    defaults = () if _terminates_tls_route(view) else ROUTE_KINDS.get(view.protocol, ())
    if view.kinds is None:
        return defaults, True
    kinds = tuple(k for k in view.kinds if k in defaults)
    return kinds, len(kinds) == len(view.kinds)


def _certificate(gw: GatewayView, view: ListenerView,
                 reads: GatewayReads) -> tuple[Secret | None, GatewayCondition]:
    """The HTTPS listener's certificate (the first ref; v1.33 serves one) and ResolvedRefs."""
    if not view.certificate_refs:
        return None, condition("ResolvedRefs", False, "InvalidCertificateRef",
                               "no certificateRefs")
    ref = view.certificate_refs[0]
    if ref.group or ref.kind != "Secret":
        return None, condition("ResolvedRefs", False, "InvalidCertificateRef",
                               f"{ref.group}/{ref.kind} is not a Secret")
    if not granted(reads.gateway, (GATEWAY_GROUP, GATEWAY, gw.key[0]),
                   ("", "Secret", ref.namespace, ref.name)):
        return None, condition("ResolvedRefs", False, "RefNotPermitted",
                               f"Secret {ref.namespace}/{ref.name} is not granted")
    secret, _ = reads.tls_secret((ref.namespace, ref.name), gw.key[0])
    if secret is None:
        return None, condition("ResolvedRefs", False, "InvalidCertificateRef",
                               f"Secret {ref.namespace}/{ref.name} is not a usable TLS Secret")
    return secret, condition("ResolvedRefs", True, "ResolvedRefs")


def resolve_listener(gw: GatewayView, view: ListenerView, reads: GatewayReads,
                     isolated: bool = False) -> Listener:
    kinds, all_kinds = _kinds(view)
    resolved = condition("ResolvedRefs", True, "ResolvedRefs")
    secret = None
    if not all_kinds:
        resolved = condition("ResolvedRefs", False, "InvalidRouteKinds",
                             "allowedRoutes names a kind this listener cannot serve")
    elif view.protocol == "HTTPS":
        secret, resolved = _certificate(gw, view, reads)
    return Listener(view, kinds, _accepted(view, isolated), resolved, secret=secret)


def secure(protocol: str) -> bool:
    """HTTPS and TLS listeners share a port as SNI chains; HTTP cannot share it with them."""
    return protocol != "HTTP"


def resolve_listeners(gw: GatewayView, reads: GatewayReads,
                      isolated: bool = False) -> list[Listener]:
    """Every listener; accepted ones on one port conflict when one is HTTP and another is
    not (ProtocolConflict), or when they have one hostname (HostnameConflict)."""
    listeners = [resolve_listener(gw, v, reads, isolated) for v in gw.listeners]
    accepted = [li for li in listeners if li.accepted.status == "True"]
    names = Counter((li.view.port, li.view.hostname) for li in accepted)
    kinds: dict[int, set[bool]] = {}
    for li in accepted:
        kinds.setdefault(li.view.port, set()).add(secure(li.view.protocol))
    for li in accepted:
        if len(kinds[li.view.port]) > 1:
            li.conflicted = condition("Conflicted", True, "ProtocolConflict",
                                      f"HTTP and TLS listeners share port {li.view.port}")
        elif names[(li.view.port, li.view.hostname)] > 1:
            li.conflicted = condition("Conflicted", True, "HostnameConflict",
                                      f"another listener on port {li.view.port} has hostname "
                                      f"{li.view.hostname or '(none)'}")
    return listeners


def gateway_status(gw: GatewayView, listeners: list[Listener],
                   addresses: tuple[tuple[str, str], ...] = ()) -> GatewayAPIStatus:
    """Accepted (ListenersNotValid when some listener is not usable; False when none is)
    and Programmed, then every listener's status."""
    usable = sum(li.usable for li in listeners)
    if usable == len(listeners):
        accepted = condition("Accepted", True, "Accepted")
    else:
        accepted = condition("Accepted", usable > 0, "ListenersNotValid",
                             f"{len(listeners) - usable} of {len(listeners)} listeners "
                             "are not valid")
    programmed = condition("Programmed", usable > 0, "Programmed" if usable else "Invalid")
    return GatewayAPIStatus(GATEWAY, gw.key[0], gw.key[1], conditions=(accepted, programmed),
                            listeners=tuple(li.status() for li in listeners),
                            addresses=addresses)
