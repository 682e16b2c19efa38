"""IngressRoute statuses: first writer wins (spec §1.8), and every description string.

The strings are upstream v0.15.3's, byte for byte, with Go `%q` quoting. The few this project
adds (spec §0.5: shapes upstream panics on or Envoy would reject) say what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.dag.model import INVALID, ORPHANED, VALID, Status
from controller.k8s.objects import Key


class StatusCollector:
    """Statuses of one build. The first status recorded for an object is kept, so an early
    error is never overwritten by a later "valid IngressRoute"."""

    __slots__ = ("_statuses",)

    def __init__(self) -> None:
        self._statuses: dict[Key, Status] = {}

    def set(self, status: Status) -> None:
        self._statuses.setdefault((status.namespace, status.name), status)

    def extend(self, statuses: Iterable[Status]) -> None:
        for status in statuses:
            self.set(status)

    def __contains__(self, key: Key) -> bool:
        return key in self._statuses

    def result(self) -> tuple[Status, ...]:
        """Every status, sorted by (namespace, name)."""
        return tuple(self._statuses[k] for k in sorted(self._statuses))


def valid(key: Key, vhost: str) -> Status:
    return Status(key[0], key[1], VALID, "valid IngressRoute", vhost)


def invalid(key: Key, description: str, vhost: str = "") -> Status:
    return Status(key[0], key[1], INVALID, description, vhost)


def orphaned(key: Key) -> Status:
    return Status(
        key[0],
        key[1],
        ORPHANED,
        "this IngressRoute is not part of a delegation chain from a root IngressRoute",
    )


def go_quote(text: str) -> str:
    """Go's %q for a string: double quotes, backslash escapes for quotes, backslashes,
    control and non-printable characters."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}

# -- descriptions (spec §1.8) ---------------------------------------------------------------

ROOT_NAMESPACE = "root IngressRoute cannot be defined in this namespace"
FQDN_MISSING = "Spec.VirtualHost.Fqdn must be specified"
TCPPROXY_SERVICES_AND_DELEGATE = (
    "tcpproxy: cannot specify services and delegate in the same tcpproxy"
)


def duplicate_fqdn(fqdn: str, keys: Iterable[Key]) -> str:
    names = ", ".join(f"{ns}/{name}" for ns, name in sorted(keys))
    return f"fqdn {go_quote(fqdn)} is used in multiple IngressRoutes: {names}"


def fqdn_wildcard(fqdn: str) -> str:
    return f"Spec.VirtualHost.Fqdn {go_quote(fqdn)} cannot use wildcards"


def fqdn_invalid(fqdn: str) -> str:
    """Project addition: Envoy would reject the domain (or never match it)."""
    return (
        f"Spec.VirtualHost.Fqdn {go_quote(fqdn)} is not a valid host name "
        "(letters, digits, '-', '_' and '.' only)"
    )


def tls_secret(secret_name: str) -> str:
    return f"TLS Secret [{secret_name}] not found or is malformed"


def services_and_delegate(match: str) -> str:
    return f"route {go_quote(match)}: cannot specify services and delegate in the same route"


def websockets_multiple_services(match: str) -> str:
    return f"route {go_quote(match)}: cannot specify multiple services and enable websockets"


def prefix_mismatch(match: str, parent: str) -> str:
    return (
        f"the path prefix {go_quote(match)} does not match the parent's path prefix "
        f"{go_quote(parent)}"
    )


def _route_service(match: str, service: str) -> str:
    """The prefix of every problem with one service of one route."""
    return f"route {go_quote(match)}: service {go_quote(service)}: "


def _chain(path: Iterable[Key]) -> str:
    return " -> ".join(f"{ns}/{name}" for ns, name in path)


def port_range(match: str, service: str) -> str:
    return _route_service(match, service) + "port must be in the range 1-65535"


def negative_weight(match: str, service: str) -> str:
    return _route_service(match, service) + "weight must be greater than or equal to zero"


def service_missing(service: str, port: int) -> str:
    return f"Service [{service}:{port}] is invalid or missing"


def ca_secret(match: str, service: str) -> str:
    return _route_service(match, service) + (
        "upstreamValidation requested but secret not found or misconfigured"
    )


def subject_name(match: str, service: str) -> str:
    return _route_service(match, service) + (
        "upstreamValidation requested but subject alt name not found or misconfigured"
    )


def route_cycle(path: Iterable[Key]) -> str:
    return "route creates a delegation cycle: " + _chain(path)


def tcpproxy_cycle(path: Iterable[Key]) -> str:
    return "tcpproxy creates a delegation cycle: " + _chain(path)


def tcpproxy_service_missing(namespace: str, service: str, port: int) -> str:
    return f"tcpproxy: service {namespace}/{service}/{port}: not found"


# -- project additions (spec §0.5) ----------------------------------------------------------


def tcpproxy_delegate_without_tcpproxy(target: Key) -> str:
    return f"tcpproxy: delegate {target[0]}/{target[1]} has no tcpproxy"


TCPPROXY_EMPTY = "tcpproxy: must specify services or a delegate"
TCPPROXY_NEEDS_TLS = ("tcpproxy: needs a usable tls.secretName or tls.passthrough: true "
                      "(and no routes are given)")


def weight_too_large(match: str, service: str) -> str:
    return _route_service(match, service) + f"weight must be less than or equal to {MAX_WEIGHT}"


def total_weight_too_large(match: str) -> str:
    return f"route {go_quote(match)}: the sum of the weights must not exceed {MAX_WEIGHT}"


MAX_WEIGHT = 2**32 - 1
"""Envoy weights are uint32, and so is their sum."""


def bad_match(match: str) -> str:
    return (
        f'route {go_quote(match)}: match must start with "/" and contain no whitespace '
        "or control characters"
    )


def bad_prefix_rewrite(match: str) -> str:
    return f"route {go_quote(match)}: prefixRewrite must contain no control characters"


def bad_health_check(match: str, service: str) -> str:
    return _route_service(match, service) + (
        'healthCheck path must start with "/", and path and host must contain no whitespace '
        "or control characters"
    )


def delegation_too_deep(limit: int) -> str:
    return f"delegation chain is deeper than {limit} IngressRoutes"


def delegation_too_large(limit: int) -> str:
    return f"delegation graph visits more than {limit} IngressRoutes from this root"
