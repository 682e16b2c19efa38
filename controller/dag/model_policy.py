"""DAG values of route and virtual-host policies: match conditions, retries, hashing,
direct responses and redirects, IP filters, rate limits and CORS. Immutable like model.py's
values (which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_on: str = "5xx"
    """Comma-joined Envoy retry_on conditions."""
    num_retries: int = 0  # 0: leave unset (Envoy default)
    per_try_timeout: float = 0.0  # seconds; 0: unset
    retriable_status_codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class HeaderMatch:
    """One HTTPProxy header condition. `op` is one of HEADER_OPS."""

    name: str
    op: str
    value: str = ""
    ignore_case: bool = False
    treat_missing_as_empty: bool = False


HEADER_OPS = ("present", "notpresent", "exact", "notexact", "contains", "notcontains",
              "regex")


@dataclass(frozen=True, slots=True, order=True)
class QueryMatch:
    """One HTTPProxy queryParameter condition. `op` is one of QUERY_OPS."""

    name: str
    op: str
    value: str = ""
    ignore_case: bool = False


QUERY_OPS = ("exact", "prefix", "suffix", "regex", "contains", "present")


@dataclass(frozen=True, slots=True)
class HashPolicy:
    """RequestHash load balancing: hash on a `header` or `query` parameter named `name`, or
    on the `source_ip`; `terminal` stops at the first policy that yields a hash."""

    kind: str  # "header" | "query" | "source_ip"
    name: str = ""
    terminal: bool = False


@dataclass(frozen=True, slots=True)
class DirectResponse:
    """Envoy answers itself: `status` and `body` (may be empty)."""

    status: int
    body: str = ""


@dataclass(frozen=True, slots=True)
class Redirect:
    """HTTPProxy requestRedirectPolicy; empty fields keep the request's value."""

    scheme: str = ""
    hostname: str = ""
    port: int = 0
    path: str = ""
    prefix: str = ""
    status_code: int = 302


@dataclass(frozen=True, slots=True)
class CIDR:
    address: str
    prefix_len: int
    remote: bool = False
    """Match the client address from X-Forwarded-For (source Remote) instead of the peer."""


@dataclass(frozen=True, slots=True)
class IPFilter:
    """ipAllowPolicy (`allow`) or ipDenyPolicy; a route-level filter replaces the vhost's."""

    allow: bool
    rules: tuple[CIDR, ...]


@dataclass(frozen=True, slots=True)
class LocalRateLimit:
    """A token bucket of `max_tokens` refilled with `tokens_per_fill` every `fill_interval`
    seconds; over the limit Envoy answers `status` with `headers` added."""

    max_tokens: int
    tokens_per_fill: int
    fill_interval: float
    status: int = 429
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CORSPolicy:
    """A virtual host's corsPolicy. `allow_origin` pairs (value, is_regex); `max_age` is an
    Envoy duration string in seconds ("600"), empty for unset."""

    allow_origin: tuple[tuple[str, bool], ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: str = ""
    allow_credentials: bool = False
    allow_private_network: bool = False


@dataclass(frozen=True, slots=True, order=True)
class RateLimitEntry:
    """One entry of a global rate limit descriptor (v1.33 RateLimitDescriptorEntry): `kind`
    is "generic_key" (key, value), "request_header" (header_name → descriptor key),
    "header_value_match" (value if `headers` match, or not when `expect_match` is False)
    or "remote_address"."""

    kind: str
    key: str = ""
    value: str = ""
    header_name: str = ""
    headers: tuple[HeaderMatch, ...] = ()
    expect_match: bool = True


RateLimitDescriptor = tuple[RateLimitEntry, ...]


class Timeout:
    """Route timeout values: None = unset (Envoy default 15s), INFINITE = 0s in Envoy."""

    INFINITE = -1.0
