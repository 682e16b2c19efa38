"""HTTPProxy route and cluster policies (v1.33 internal/dag/policy.go) into the model.

Each converter takes a view and returns the model value, or raises `PolicyError` with
v1.33's message; the processor decides which condition type and prefix the message gets.
Header names are canonicalised like Go's http.CanonicalHeaderKey; everything emitted is
sorted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from controller.dag.model import (
    HashPolicy,
    HeadersPolicy,
    HealthCheck,
    Redirect,
    RetryPolicy,
    SlowStart,
    Timeout,
)
from controller.dag.proxystatus import ProxyConditions
from controller.dag.status import go_quote
from controller.k8s import annotations as ann
from controller.k8s.httpproxy_parts import (
    HeadersPolicyView,
    HealthCheckPolicyView,
    LoadBalancerPolicyView,
    RedirectPolicyView,
    RetryPolicyView,
    SlowStartView,
    TimeoutPolicyView,
)

ROUND_ROBIN = "RoundRobin"
WEIGHTED_LEAST_REQUEST = "WeightedLeastRequest"
COOKIE = "Cookie"
REQUEST_HASH = "RequestHash"
_STRATEGIES = frozenset({WEIGHTED_LEAST_REQUEST, "Random", COOKIE, REQUEST_HASH})

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_K8S_HEADER = re.compile(r"[-A-Za-z0-9]+")
_K8S_HEADER_MSG = ("[a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
                   "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]")
_HOST_FROM_HEADER = re.compile(r"%REQ\(([A-Za-z0-9-]+)\)%")
_ENVOY_VARS = (
    "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
    "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_LOCAL_PORT",
    "DOWNSTREAM_LOCAL_URI_SAN", "DOWNSTREAM_PEER_URI_SAN", "DOWNSTREAM_LOCAL_SUBJECT",
    "DOWNSTREAM_PEER_SUBJECT", "DOWNSTREAM_PEER_ISSUER", "DOWNSTREAM_TLS_SESSION_ID",
    "DOWNSTREAM_TLS_CIPHER", "DOWNSTREAM_TLS_VERSION", "DOWNSTREAM_PEER_FINGERPRINT_256",
    "DOWNSTREAM_PEER_FINGERPRINT_1", "DOWNSTREAM_PEER_SERIAL", "DOWNSTREAM_PEER_CERT",
    "DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END", "HOSTNAME", "PROTOCOL",
    "UPSTREAM_REMOTE_ADDRESS", "RESPONSE_FLAGS", "RESPONSE_CODE_DETAILS",
)
_REQ_VAR = re.compile(r"%(%REQ\(:?[\w-]+(\?:?[\w-]+)?\)(:\d+)?%)%")


class PolicyError(Exception):
    """A policy v1.33 refuses; str() is its message."""


# -- headers -----------------------------------------------------------------------------------


def canonical_header(name: str) -> str:
    """Go's http.CanonicalHeaderKey: a token gets each '-'-separated word capitalised;
    anything else is returned unchanged."""
    if not _TOKEN.fullmatch(name):
        return name
    return "-".join(w[:1].upper() + w[1:].lower() for w in name.split("-"))


def header_name_error(name: str) -> str | None:
    """k8s validation.IsHTTPHeaderName's messages, as Go prints a []string."""
    return None if _K8S_HEADER.fullmatch(name) else _K8S_HEADER_MSG


def escape_header_value(value: str, dynamic: Mapping[str, str]) -> str:
    """v1.33 escapeHeaderValue: '%' is literal except for Contour's dynamic variables
    (substituted), Envoy's known variables and %REQ(...)% (kept as Envoy variables)."""
    if "%" not in value:
        return value
    out = value.replace("%", "%%")
    for var, substitute in dynamic.items():
        out = out.replace(f"%%{var}%%", substitute)
    for var in _ENVOY_VARS:
        out = out.replace(f"%%{var}%%", f"%{var}%")
    return _REQ_VAR.sub(r"\1", out)


def headers_policy(
    view: HeadersPolicyView | None, allow_host: bool, dynamic: Mapping[str, str]
) -> HeadersPolicy | None:
    """v1.33 headersPolicyRoute. A Host set becomes `host_rewrite` (request side only), or
    `host_rewrite_header` when its value is %REQ(header)%."""
    if view is None:
        return None
    set_: dict[str, str] = {}
    host = host_header = ""
    for name, value in view.set:
        key = canonical_header(name)
        if key in set_:
            raise PolicyError(f"duplicate header addition: {go_quote(key)}")
        if key == "Host":
            if not allow_host:
                raise PolicyError(f"rewriting {go_quote(key)} header is not supported")
            found = _HOST_FROM_HEADER.search(value)
            if found and found.group(1).strip():
                host_header = canonical_header(found.group(1).strip())
            else:
                host = value
            continue
        if header_name_error(key):
            raise PolicyError(f"invalid set header {go_quote(key)}: {header_name_error(key)}")
        set_[key] = escape_header_value(value, dynamic)
    return HeadersPolicy(tuple(sorted(set_.items())), _removals(view.remove), host, host_header)


def _removals(names: tuple[str, ...]) -> tuple[str, ...]:
    remove: set[str] = set()
    for name in names:
        key = canonical_header(name)
        if key in remove:
            raise PolicyError(f"duplicate header removal: {go_quote(key)}")
        if header_name_error(key):
            raise PolicyError(f"invalid remove header {go_quote(key)}: {header_name_error(key)}")
        remove.add(key)
    return tuple(sorted(remove))


# -- timeouts, retries, durations --------------------------------------------------------------


def go_duration(text: str) -> float:
    """Go time.ParseDuration in seconds; PolicyError with Go's message otherwise."""
    try:
        return ann.parse_go_duration(text)
    except ValueError:
        raise PolicyError(f"time: invalid duration {go_quote(text)}") from None


def timeout_setting(text: str) -> float | None:
    """v1.33 timeout.Parse: "" and 0 → None (default), infinity → Timeout.INFINITE."""
    if text == "":
        return None
    if text in ("infinity", "infinite"):
        return Timeout.INFINITE
    try:
        seconds = go_duration(text)
    except PolicyError as err:
        raise PolicyError(f"unable to parse timeout string {go_quote(text)}: {err}") from None
    return seconds or None


def timeout_policy(
    view: TimeoutPolicyView | None,
) -> tuple[float | None, float | None, float | None]:
    """(response timeout, idle stream timeout, idle connection timeout)."""
    if view is None:
        return None, None, None
    out = []
    for what, text in (("response", view.response), ("idle", view.idle),
                       ("idle connection", view.idle_connection)):
        try:
            out.append(timeout_setting(text))
        except PolicyError as err:
            raise PolicyError(f"error parsing {what} timeout: {err}") from None
    return out[0], out[1], out[2]


def retry_policy(view: RetryPolicyView | None) -> RetryPolicy | None:
    """v1.33 retryPolicy: retryOn defaults to 5xx; count 0 or 1 is one retry, -1 leaves it
    unset; an unparsable perTryTimeout is the default."""
    if view is None:
        return None
    count = {-1: 0, 0: 1, 1: 1}.get(view.count, view.count)
    try:
        per_try = max(0.0, go_duration(view.per_try_timeout))
    except PolicyError:
        per_try = 0.0
    retry_on = ",".join(view.retry_on) if view.retry_on else "5xx"
    return RetryPolicy(retry_on, max(0, count), per_try, view.retriable_status_codes)


def slow_start(view: SlowStartView) -> SlowStart:
    try:
        window = go_duration(view.window)
    except PolicyError as err:
        raise PolicyError(f"error parsing window: {err}") from None
    aggression = 1.0
    if view.aggression:
        try:
            aggression = float(view.aggression)
        except ValueError:
            raise PolicyError(f'error parsing aggression: "{view.aggression}" is not a decimal '
                              "number") from None
    return SlowStart(window, aggression, view.min_weight_percent)


# -- health checks, load balancing, redirects ------------------------------------------------


def health_check(view: HealthCheckPolicyView | None) -> HealthCheck | None:
    if view is None:
        return None
    for start, end in view.expected_statuses:
        if not 100 <= start <= 599:
            raise PolicyError("invalid expected status range: start must be in the range "
                              "[100, 599]")
        if not 101 <= end <= 600:
            raise PolicyError("invalid expected status range: end must be in the range "
                              "[101, 600]")
    return HealthCheck(view.path, view.host, view.interval_seconds, view.timeout_seconds,
                       view.unhealthy_threshold, view.healthy_threshold, view.expected_statuses)


def strategy(view: LoadBalancerPolicyView | None) -> str:
    """v1.33 loadBalancerPolicy: a known strategy, else "" (RoundRobin)."""
    return view.strategy if view is not None and view.strategy in _STRATEGIES else ""


_IGNORED = ("SpecError", "IgnoredField")


def request_hash(
    view: LoadBalancerPolicyView | None, cond: ProxyConditions
) -> tuple[tuple[HashPolicy, ...], str]:
    """v1.33 loadBalancerRequestHashPolicies: (hash policies, strategy); invalid entries are
    warnings, and none left falls back to RoundRobin."""
    chosen = strategy(view)
    if view is None or chosen != REQUEST_HASH:
        return (), chosen
    out: list[HashPolicy] = []
    seen: set[tuple[str, str]] = set()
    for h in view.request_hash:
        policy = _hash_policy(h.terminal, h.source_ip, h.header_name, h.query_name, seen, cond)
        if policy is not None:
            out.append(policy)
    if not out:
        cond.warning(*_IGNORED, "ignoring invalid request hash policy options, setting load "
                     f"balancer strategy to default {ROUND_ROBIN}")
        return (), ROUND_ROBIN
    return tuple(out), REQUEST_HASH


def _hash_policy(
    terminal: bool, source_ip: bool, header: str | None, query: str | None,
    seen: set[tuple[str, str]], cond: ProxyConditions,
) -> HashPolicy | None:
    """One requestHashPolicies entry, or None after its IgnoredField warning."""
    if sum((source_ip, header is not None, query is not None)) != 1:
        cond.warning(*_IGNORED, "ignoring invalid request hash policy, must set exactly one of "
                     "hashSourceIP or headerHashOptions or queryParameterHashOptions")
        return None
    if source_ip:
        policy, problem = HashPolicy("source_ip", "", terminal), ""
        duplicate = "ignoring invalid request hash policy, hashSourceIP specified multiple times"
    elif header is not None:
        policy = HashPolicy("header", canonical_header(header), terminal)
        bad_name = header_name_error(policy.name)
        problem = ("ignoring invalid header hash policy options with invalid header name "
                   f"{go_quote(policy.name)}: {bad_name}") if bad_name else ""
        duplicate = ("ignoring invalid header hash policy options with duplicated header name "
                     f"{policy.name}")
    else:
        policy = HashPolicy("query", (query or "").lower(), terminal)
        problem = "" if policy.name else ("ignoring invalid query parameter hash policy options "
                                          "with an invalid empty query parameter name")
        duplicate = ("ignoring invalid query parameter hash policy options with duplicated "
                     f"query parameter name {policy.name}")
    if not problem and (policy.kind, policy.name) in seen:
        problem = duplicate
    if problem:
        cond.warning(*_IGNORED, problem)
        return None
    seen.add((policy.kind, policy.name))
    return policy


def redirect(view: RedirectPolicyView | None) -> Redirect | None:
    """v1.33 redirectRoutePolicy; a missing statusCode is the CRD default 302."""
    if view is None:
        return None
    if view.path is not None and view.prefix is not None:
        raise PolicyError("cannot specify both redirect path and redirect prefix")
    return Redirect(view.scheme, view.hostname, view.port, view.path or "", view.prefix or "",
                    view.status_code or 302)


def replace_prefix_error(replacements: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """v1.33 prefixReplacementsAreValid: (reason, message) of the first repeated prefix."""
    seen: set[str] = set()
    for prefix, _ in replacements:
        if prefix in seen:
            if prefix:
                return "DuplicateReplacement", f"duplicate replacement prefix '{prefix}'"
            return "AmbiguousReplacement", "ambiguous prefix replacement"
        seen.add(prefix)
    return None


def chosen_replacement(replacements: tuple[tuple[str, str], ...], prefix: str) -> str | None:
    """The replacement for a route matching `prefix`: an exact prefix entry first, else
    the entry without a prefix (the default), else none."""
    for p, replacement in replacements:
        if p and p == prefix:
            return replacement
    return next((r for p, r in replacements if not p), None)
