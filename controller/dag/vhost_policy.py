"""HTTPProxy virtual-host policies (v1.33): corsPolicy, ipAllowPolicy/ipDenyPolicy and
rateLimitPolicy.local (the last two also on routes).

Converters return the model value or raise `PolicyError` with v1.33's message, except the
IP filter, which records its own sub-errors the way v1.33's toIPFilterRules does.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from controller.dag.ingress import re2_compatible
from controller.dag.model import CIDR, CORSPolicy, IPFilter, LocalRateLimit
from controller.dag.policy import (
    PolicyError,
    canonical_header,
    escape_header_value,
    go_duration,
    header_name_error,
)
from controller.dag.proxystatus import IP_BOTH, ProxyConditions
from controller.dag.status import go_quote
from controller.k8s.httpproxy_parts import (
    CORSPolicyView,
    IPFilterRuleView,
    IPPolicies,
    LocalRateLimitView,
)

_HOST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]%@]+")
_FILL = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


def cors(view: CORSPolicyView | None) -> CORSPolicy | None:
    """v1.33 toCORSPolicy."""
    if view is None:
        return None
    if not view.allow_origin:
        raise PolicyError("invalid allowed origin configuration with length 0")
    origins = tuple(_origin(o) for o in view.allow_origin)
    if not view.allow_methods:
        raise PolicyError("invalid allowed methods configuration with length 0")
    return CORSPolicy(
        allow_origin=origins,
        allow_methods=view.allow_methods,
        allow_headers=view.allow_headers,
        expose_headers=view.expose_headers,
        max_age=_max_age(view.max_age),
        allow_credentials=view.allow_credentials,
        allow_private_network=view.allow_private_network,
    )


def _origin(origin: str) -> tuple[str, bool]:
    """(value, is_regex): "*" or a bare scheme://host is exact, else it must be a regex."""
    if origin == "*" or _is_origin(origin):
        return origin, False
    if re2_compatible(origin):
        return origin, True
    raise PolicyError(f"invalid allowed origin {go_quote(origin)}: allowed origin is invalid "
                      "exact match and invalid regex match")


def _is_origin(text: str) -> bool:
    """Go's url.Parse gives exactly scheme://host back (host characters as Go allows)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return (bool(parts.scheme and parts.netloc) and _HOST.fullmatch(parts.netloc) is not None
            and f"{parts.scheme}://{parts.netloc}" == text)


def _max_age(text: str) -> str:
    """v1.33 ParseMaxAge: "" is unset, 0 disables caching ("0"), else whole seconds."""
    if not text:
        return ""
    try:
        seconds = go_duration(text)
    except PolicyError as err:
        raise PolicyError(f"unable to parse timeout string {go_quote(text)}: {err}") from None
    if seconds < 0:
        raise PolicyError(f"invalid max age value {go_quote(text)}")
    return str(int(seconds))


def ip_filter(policies: IPPolicies, cond: ProxyConditions) -> tuple[IPFilter | None, bool]:
    """(filter, ok). Not ok after an error was recorded: both lists given, or a CIDR that
    does not parse (every bad CIDR is reported)."""
    if policies.allow and policies.deny:
        cond.error("IPFilterError", "IncompatibleIPAddressFilters", IP_BOTH)
        return None, False
    allow = bool(policies.allow)
    rules = policies.allow or policies.deny
    if not rules:
        return None, True
    out, ok = [], True
    for rule in rules:
        cidr = _cidr(rule)
        if cidr is None:
            cond.error("IPFilterError", "InvalidCIDR",
                       f"{rule.cidr} failed to parse: invalid CIDR address: {rule.cidr}")
            ok = False
        else:
            out.append(cidr)
    return (IPFilter(allow, tuple(out)), True) if ok else (None, False)


def _cidr(rule: IPFilterRuleView) -> CIDR | None:
    """A bare IP is a /32 (or /128); the address is the network's (Go net.ParseCIDR)."""
    text = rule.cidr
    if "/" not in text:
        text += "/128" if ":" in text else "/32"
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return CIDR(str(net.network_address), net.prefixlen, rule.source == "Remote")


def local_rate_limit(view: LocalRateLimitView | None) -> LocalRateLimit | None:
    """v1.33 localRateLimitPolicy: a bucket of requests + burst tokens."""
    if view is None:
        return None
    if view.requests <= 0:
        raise PolicyError(f"invalid requests value {view.requests} in local rate limit policy")
    fill = _FILL.get(view.unit)
    if fill is None:
        raise PolicyError(f"invalid unit {go_quote(view.unit)} in local rate limit policy")
    headers: dict[str, str] = {}
    for name, value in view.response_headers:
        key = canonical_header(name)
        if key in headers:
            raise PolicyError(f"duplicate header addition: {go_quote(key)}")
        if header_name_error(key):
            raise PolicyError(f"invalid header name {go_quote(key)}: {header_name_error(key)}")
        headers[key] = escape_header_value(value, {})
    return LocalRateLimit(view.requests + view.burst, view.requests, fill,
                          view.response_status_code or 429, tuple(sorted(headers.items())))

