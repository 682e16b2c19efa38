"""contour.heptio.com/* and ingress annotations → typed values (spec §2.2, §2.3, §2.4, §3.6).

Every reader takes the object's annotations as a str→str map and never raises: a value that
does not parse falls back to what upstream Contour does with it (documented per function).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

CONTOUR_CLASS = "contour.heptio.com/ingress.class"
KUBERNETES_CLASS = "kubernetes.io/ingress.class"
FORCE_SSL_REDIRECT = "ingress.kubernetes.io/force-ssl-redirect"
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"
TLS_MINIMUM_PROTOCOL_VERSION = "contour.heptio.com/tls-minimum-protocol-version"
WEBSOCKET_ROUTES = "contour.heptio.com/websocket-routes"
REQUEST_TIMEOUT = "contour.heptio.com/request-timeout"
RETRY_ON = "contour.heptio.com/retry-on"
NUM_RETRIES = "contour.heptio.com/num-retries"
PER_TRY_TIMEOUT = "contour.heptio.com/per-try-timeout"
UPSTREAM_PROTOCOL = "contour.heptio.com/upstream-protocol."
MAX_CONNECTIONS = "contour.heptio.com/max-connections"
MAX_PENDING_REQUESTS = "contour.heptio.com/max-pending-requests"
MAX_REQUESTS = "contour.heptio.com/max-requests"
MAX_RETRIES = "contour.heptio.com/max-retries"

INFINITE_TIMEOUT = -1.0
"""Same value as controller.dag.model.Timeout.INFINITE (kept here so k8s/ imports no DAG)."""

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1

# -- ingress class (§2.3) -------------------------------------------------------------------


def ingress_class(annotations: Mapping[str, str], class_name: str = "") -> str:
    """The class an object asks for: contour.heptio.com/ingress.class when the key exists (even
    empty), else kubernetes.io/ingress.class; when that yields "", the Ingress v1
    `spec.ingressClassName` (project decision §0.6)."""
    if CONTOUR_CLASS in annotations:
        value = annotations[CONTOUR_CLASS]
    else:
        value = annotations.get(KUBERNETES_CLASS, "")
    return value or class_name


def class_matches(annotations: Mapping[str, str], wanted: str, class_name: str = "") -> bool:
    """An empty class means "any controller may take it"."""
    requested = ingress_class(annotations, class_name)
    return requested == "" or requested == wanted


# -- Ingress behaviour (§2.2) ---------------------------------------------------------------


def force_ssl_redirect(annotations: Mapping[str, str]) -> bool:
    return annotations.get(FORCE_SSL_REDIRECT) == "true"


def http_allowed(annotations: Mapping[str, str]) -> bool:
    """Only the exact value "false" disables port-80 routes."""
    return annotations.get(ALLOW_HTTP) != "false"


def tls_version(value: str) -> str:
    """ "1.3" and "1.2" are honoured exactly; any other value (also "", "1.1") means 1.1."""
    return value if value in ("1.2", "1.3") else "1.1"


def tls_minimum_protocol_version(annotations: Mapping[str, str]) -> str:
    return tls_version(annotations.get(TLS_MINIMUM_PROTOCOL_VERSION, ""))


def websocket_routes(annotations: Mapping[str, str]) -> frozenset[str]:
    """Comma list of paths, each trimmed (`"/ws1 , /ws2"` → {"/ws1", "/ws2"})."""
    raw = annotations.get(WEBSOCKET_ROUTES, "")
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def request_timeout(annotations: Mapping[str, str]) -> float | None:
    """None when the key is absent; otherwise the IngressRoute timeout rule (§3.6)."""
    if REQUEST_TIMEOUT not in annotations:
        return None
    return timeout(annotations[REQUEST_TIMEOUT])


def retry_on(annotations: Mapping[str, str]) -> str:
    """Envoy retry_on, verbatim; "" means no retry policy."""
    return annotations.get(RETRY_ON, "")


def num_retries(annotations: Mapping[str, str]) -> int:
    """int32; invalid, zero or negative → 0 (Envoy's default applies)."""
    return max(0, parse_int32(annotations.get(NUM_RETRIES, "")))


def per_try_timeout(annotations: Mapping[str, str]) -> float:
    return positive_duration(annotations.get(PER_TRY_TIMEOUT, ""))


# -- Service annotations (§2.4) -------------------------------------------------------------


def upstream_protocols(annotations: Mapping[str, str]) -> dict[str, str]:
    """Port name or number (as a string) → "h2" | "h2c" | "tls". Processed in the order
    h2, h2c, tls so that a port listed twice gets the later one (tls > h2c > h2)."""
    out: dict[str, str] = {}
    for protocol in ("h2", "h2c", "tls"):
        for port in annotations.get(UPSTREAM_PROTOCOL + protocol, "").split(","):
            if port.strip():
                out[port.strip()] = protocol
    return out


def circuit_breaker(annotations: Mapping[str, str], key: str) -> int:
    """max-* annotations: base-10 int32; invalid (e.g. "1e6") or negative → 0 (unset)."""
    return max(0, parse_int32(annotations.get(key, "")))


# -- numbers and Go durations ---------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+")


def parse_int32(text: str) -> int:
    """Go strconv.ParseInt(text, 10, 32), with every error mapped to 0."""
    if not _INT_RE.fullmatch(text):
        return 0
    value = int(text)
    return value if -_INT32_MAX - 1 <= value <= _INT32_MAX else 0


_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_go_duration(text: str) -> float:
    """Go time.ParseDuration → seconds. Raises ValueError on anything Go rejects, including a
    total beyond int64 nanoseconds. Examples: "1m30s", "600ms", "1.5h", "-2s", "0"."""
    body = text[1:] if text[:1] in ("+", "-") else text
    sign = -1 if text[:1] == "-" else 1
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f"invalid duration {text!r}")
    total_ns, pos = 0, 0
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if m is None or not (m.group(1) or m.group(2)):
            raise ValueError(f"invalid duration {text!r}")
        whole, frac, unit = m.group(1) or "0", m.group(2) or "", m.group(3)
        scale = _UNIT_NS[unit]
        total_ns += int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        if total_ns > _INT64_MAX:
            raise ValueError(f"invalid duration {text!r}: overflow")
        pos = m.end()
    return sign * total_ns / 1e9


def timeout(text: str) -> float | None:
    """A request timeout (§3.6): "" or "0s" → None (Envoy default); a positive duration → its
    seconds; "infinity", anything unparsable, and (project decision: Envoy rejects negative
    durations) a negative duration → INFINITE_TIMEOUT."""
    if text == "":
        return None
    try:
        seconds = parse_go_duration(text)
    except ValueError:
        return INFINITE_TIMEOUT
    if seconds == 0:
        return None
    return seconds if seconds > 0 else INFINITE_TIMEOUT


def positive_duration(text: str) -> float:
    """A per-try timeout: the duration in seconds when it parses and is > 0, else 0 (unset).
    "infinity" is not a Go duration, so it is unset too."""
    try:
        seconds = parse_go_duration(text)
    except ValueError:
        return 0.0
    return seconds if seconds > 0 else 0.0
