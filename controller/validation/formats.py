"""The API server's string rules as JSON Schema fragments, each with the reason reported
when it fails (`x-reason`, read by engine.py).

Every rule is a pattern or a format the Rust validator evaluates itself: a Python
callback per string tripled the cost of an IngressRoute (3.9 µs against 1.6 µs for
10k, measured with jsonschema-rs 0.61), and names and IPs are in every object.
Patterns are RE2 (the validator's `regex` engine, the same dialect as Go), so no
lookaround: the IANA service name needs an `allOf`.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

REASON = "x-reason"  # a custom keyword: the validator ignores it, engine.py reports it

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_RULE = "a-z, 0-9 and '-', starting and ending with a letter or digit"


def _rule(reason: str, **rules: Any) -> Schema:
    return {"type": "string", **rules, REASON: reason}


def dns1123_label(*, allow_empty: bool = False) -> Schema:
    """A DNS-1123 label; with `allow_empty`, "" too (a port's name when it is the only one)."""
    return _rule(
        f"must be a lowercase RFC 1123 label ({_LABEL_RULE}, at most 63 characters)"
        + (" or empty" if allow_empty else ""),
        maxLength=63, pattern=f"^({_LABEL})?$" if allow_empty else f"^{_LABEL}$",
    )  # fmt: skip


def dns1123_subdomain(*, trailing_dot: bool = False) -> Schema:
    """A DNS-1123 subdomain; with `trailing_dot`, one final "." too (a Service's
    externalName, an absolute name)."""
    dot = ", one trailing '.' allowed" if trailing_dot else ""
    return _rule(
        "must be a lowercase RFC 1123 subdomain (dot-separated labels of "
        f"{_LABEL_RULE}, at most 253 characters){dot}",
        maxLength=253 + trailing_dot,
        pattern=rf"^{_LABEL}(\.{_LABEL})*" + (r"\.?$" if trailing_dot else "$"),
    )


def ingress_host() -> Schema:
    """An Ingress host (rules[].host, tls[].hosts[]): empty, a DNS-1123 subdomain, or a
    `*.` wildcard of one; not an IP address (the API server's ValidateIngressSpec)."""
    name = f"{_LABEL}(\\.{_LABEL})*"
    return _rule(
        "must be a lowercase DNS name (RFC 1123 labels separated by '.', at most 253 "
        "characters), optionally with a leading '*.' wildcard label, and not an IP address",
        maxLength=253, pattern=f"^((\\*\\.)?{name})?$",
        **{"not": {"pattern": "^[0-9]+(\\.[0-9]+){3}$|:", "minLength": 1}},
    )


def dns1035_label() -> Schema:
    return _rule(
        "must be a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a letter and "
        "ending with a letter or digit, at most 63 characters)",
        maxLength=63, pattern="^[a-z]([-a-z0-9]*[a-z0-9])?$",
    )  # fmt: skip


def path_segment_name() -> Schema:
    """The loosest name rule of any kind (RBAC roles are named `system:controller:x`)."""
    return _rule(
        "must be a non-empty name other than '.' and '..', without '/' or '%'",
        minLength=1, pattern=r"^[^/%]*$", **{"not": {"enum": [".", ".."]}},
    )  # fmt: skip


def iana_svc_name() -> Schema:
    """A named port (a Service's targetPort): 1-15 of [a-z0-9-], a letter, no `--`."""
    return _rule(
        "must be an IANA service name (1-15 of a-z, 0-9 and '-', with a letter, "
        "starting and ending with a letter or digit, no '--')",
        maxLength=15,
        allOf=[{"pattern": f"^{_LABEL}$"}, {"pattern": "[a-z]"}, {"not": {"pattern": "--"}}],
    )


# A Secret (or ConfigMap) data key: used as a patternProperties key (core.py).
CONFIG_KEY_PATTERN = "[-._a-zA-Z0-9]{1,253}"
CONFIG_KEY_REASON = "keys must consist of alphanumeric characters, '-', '_' or '.'"


def base64() -> Schema:
    """OpenAPI `format: byte` (Secret data): standard base64 with padding."""
    return _rule(
        "must be base64-encoded",
        pattern="^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    )


def ip_address(family: str = "") -> Schema:
    """An IPv4 or IPv6 address as Envoy parses it (inet_pton: no zone, no leading zeros);
    `family` "IPv4" or "IPv6" restricts it."""
    if family:
        return _rule(f"must be a valid {family} address", format=family.lower())
    return _rule(
        "must be a valid IP address", anyOf=[{"format": "ipv4"}, {"format": "ipv6"}]
    )
