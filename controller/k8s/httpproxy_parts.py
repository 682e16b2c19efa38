"""Typed views of the parts of an HTTPProxy (v1.33): match conditions and policies, with
their tolerant parsers (used by httpproxy_views.py). Nothing here raises: a field of the
wrong type, or missing, is treated as absent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.k8s.httpproxy_auth import CookieRewriteView, cookie_rewrites
from controller.k8s.objects import as_bool, as_dict, as_int, as_list, as_str
from controller.records import record

# -- conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeaderConditionView:
    """One `header` match condition; at most one operator is set (schema)."""

    name: str
    present: bool = False
    notpresent: bool = False
    contains: str = ""
    notcontains: str = ""
    exact: str = ""
    notexact: str = ""
    regex: str = ""
    ignore_case: bool = False
    treat_missing_as_empty: bool = False


@dataclass(frozen=True, slots=True)
class QueryConditionView:
    name: str
    exact: str = ""
    prefix: str = ""
    suffix: str = ""
    regex: str = ""
    contains: str = ""
    present: bool = False
    ignore_case: bool = False


@record
class MatchConditionView:
    """One entry of `conditions`: a path (prefix/exact/regex), a header or a query match."""

    prefix: str = ""
    exact: str = ""
    regex: str = ""
    header: HeaderConditionView | None = None
    query: QueryConditionView | None = None


# -- policies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadersPolicyView:
    set: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SlowStartView:
    window: str
    aggression: str
    min_weight_percent: int


@dataclass(frozen=True, slots=True)
class UpstreamValidationView:
    ca_secret: str
    subject_name: str


@record
class HPServiceView:
    name: str
    port: int
    weight: int = 0
    mirror: bool = False
    protocol: str | None = None
    validation: UpstreamValidationView | None = None
    request_headers: HeadersPolicyView | None = None
    response_headers: HeadersPolicyView | None = None
    slow_start: SlowStartView | None = None
    cookie_rewrites: tuple[CookieRewriteView, ...] = ()


@dataclass(frozen=True, slots=True)
class TimeoutPolicyView:
    response: str = ""
    idle: str = ""
    idle_connection: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicyView:
    count: int = 0
    per_try_timeout: str = ""
    retry_on: tuple[str, ...] = ()
    retriable_status_codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class HealthCheckPolicyView:
    path: str
    host: str = ""
    interval_seconds: int = 0
    timeout_seconds: int = 0
    unhealthy_threshold: int = 0
    healthy_threshold: int = 0
    expected_statuses: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class HashPolicyView:
    terminal: bool = False
    header_name: str | None = None  # headerHashOptions present (its headerName)
    query_name: str | None = None  # queryParameterHashOptions present
    source_ip: bool = False


@dataclass(frozen=True, slots=True)
class LoadBalancerPolicyView:
    strategy: str
    request_hash: tuple[HashPolicyView, ...] = ()


@dataclass(frozen=True, slots=True)
class RedirectPolicyView:
    scheme: str = ""
    hostname: str = ""
    port: int = 0
    status_code: int = 0
    path: str | None = None
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class DirectResponseView:
    status_code: int
    body: str = ""


@dataclass(frozen=True, slots=True)
class IPFilterRuleView:
    source: str  # "Peer" | "Remote"
    cidr: str


@dataclass(frozen=True, slots=True)
class LocalRateLimitView:
    requests: int
    unit: str
    burst: int = 0
    response_status_code: int = 0
    response_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CORSPolicyView:
    allow_origin: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: str = ""
    allow_credentials: bool = False
    allow_private_network: bool = False


@record
class IPPolicies:
    """ipAllowPolicy / ipDenyPolicy of a virtual host or a route (empty = not set)."""

    allow: tuple[IPFilterRuleView, ...] = ()
    deny: tuple[IPFilterRuleView, ...] = ()


def _int(value: object) -> int:
    n = as_int(value)
    return n if n is not None else 0


def _strs(value: object) -> tuple[str, ...]:
    return tuple(v for v in as_list(value) if isinstance(v, str))


def _opt_str(d: dict[str, Any], name: str) -> str | None:
    value = d.get(name)
    return value if isinstance(value, str) else None


def _header_condition(raw: object) -> HeaderConditionView | None:
    if not isinstance(raw, dict):
        return None
    s = {k: as_str(raw.get(k)) for k in ("contains", "notcontains", "exact", "notexact", "regex")}
    return HeaderConditionView(
        name=as_str(raw.get("name")),
        present=as_bool(raw.get("present")),
        notpresent=as_bool(raw.get("notpresent")),
        ignore_case=as_bool(raw.get("ignoreCase")),
        treat_missing_as_empty=as_bool(raw.get("treatMissingAsEmpty")),
        **s,
    )


def _query_condition(raw: object) -> QueryConditionView | None:
    if not isinstance(raw, dict):
        return None
    s = {k: as_str(raw.get(k)) for k in ("exact", "prefix", "suffix", "regex", "contains")}
    return QueryConditionView(
        name=as_str(raw.get("name")),
        present=as_bool(raw.get("present")),
        ignore_case=as_bool(raw.get("ignoreCase")),
        **s,
    )


def conditions(raw: object) -> tuple[MatchConditionView, ...]:
    out = []
    for c in as_list(raw):
        d = as_dict(c)
        out.append(MatchConditionView(
            prefix=as_str(d.get("prefix")),
            exact=as_str(d.get("exact")),
            regex=as_str(d.get("regex")),
            header=_header_condition(d.get("header")),
            query=_query_condition(d.get("queryParameter")),
        ))
    return tuple(out)


def name_values(raw: object) -> tuple[tuple[str, str], ...]:
    return tuple(
        (as_str(as_dict(e).get("name")), as_str(as_dict(e).get("value"))) for e in as_list(raw)
    )


def headers_policy(raw: object) -> HeadersPolicyView | None:
    if not isinstance(raw, dict):
        return None
    return HeadersPolicyView(name_values(raw.get("set")), _strs(raw.get("remove")))


def service(raw: object) -> HPServiceView:
    d = as_dict(raw)
    validation = d.get("validation")
    slow = d.get("slowStartPolicy")
    return HPServiceView(
        name=as_str(d.get("name")),
        port=_int(d.get("port")),
        weight=_int(d.get("weight")),
        mirror=as_bool(d.get("mirror")),
        protocol=_opt_str(d, "protocol"),
        validation=UpstreamValidationView(
            as_str(validation.get("caSecret")), as_str(validation.get("subjectName"))
        ) if isinstance(validation, dict) else None,
        request_headers=headers_policy(d.get("requestHeadersPolicy")),
        response_headers=headers_policy(d.get("responseHeadersPolicy")),
        slow_start=SlowStartView(
            as_str(slow.get("window")), as_str(slow.get("aggression")),
            _int(slow.get("minWeightPercent", 10)),  # the CRD default
        ) if isinstance(slow, dict) else None,
        cookie_rewrites=cookie_rewrites(d.get("cookieRewritePolicies")),
    )


def services(raw: object) -> tuple[HPServiceView, ...]:
    return tuple(service(s) for s in as_list(raw))


def timeout(raw: object) -> TimeoutPolicyView | None:
    if not isinstance(raw, dict):
        return None
    return TimeoutPolicyView(
        as_str(raw.get("response")), as_str(raw.get("idle")), as_str(raw.get("idleConnection"))
    )


def retry(raw: object) -> RetryPolicyView | None:
    if not isinstance(raw, dict):
        return None
    codes = tuple(c for c in as_list(raw.get("retriableStatusCodes")) if as_int(c) is not None)
    return RetryPolicyView(
        _int(raw.get("count")), as_str(raw.get("perTryTimeout")), _strs(raw.get("retryOn")), codes
    )


def health_check(raw: object) -> HealthCheckPolicyView | None:
    if not isinstance(raw, dict):
        return None
    statuses = tuple(
        (_int(as_dict(s).get("start")), _int(as_dict(s).get("end")))
        for s in as_list(raw.get("expectedStatuses"))
    )
    return HealthCheckPolicyView(
        path=as_str(raw.get("path")),
        host=as_str(raw.get("host")),
        interval_seconds=_int(raw.get("intervalSeconds")),
        timeout_seconds=_int(raw.get("timeoutSeconds")),
        unhealthy_threshold=_int(raw.get("unhealthyThresholdCount")),
        healthy_threshold=_int(raw.get("healthyThresholdCount")),
        expected_statuses=statuses,
    )


def hash_policy(raw: object) -> HashPolicyView:
    d = as_dict(raw)
    header, query = d.get("headerHashOptions"), d.get("queryParameterHashOptions")
    return HashPolicyView(
        terminal=as_bool(d.get("terminal")),
        header_name=as_str(header.get("headerName")) if isinstance(header, dict) else None,
        query_name=as_str(query.get("parameterName")) if isinstance(query, dict) else None,
        source_ip=as_bool(d.get("hashSourceIP")),
    )


def load_balancer(raw: object) -> LoadBalancerPolicyView | None:
    if not isinstance(raw, dict):
        return None
    hashes = tuple(hash_policy(h) for h in as_list(raw.get("requestHashPolicies")))
    return LoadBalancerPolicyView(as_str(raw.get("strategy")), hashes)


def redirect(raw: object) -> RedirectPolicyView | None:
    if not isinstance(raw, dict):
        return None
    return RedirectPolicyView(
        scheme=as_str(raw.get("scheme")),
        hostname=as_str(raw.get("hostname")),
        port=_int(raw.get("port")),
        status_code=_int(raw.get("statusCode")),
        path=_opt_str(raw, "path"),
        prefix=_opt_str(raw, "prefix"),
    )


def direct_response(raw: object) -> DirectResponseView | None:
    if not isinstance(raw, dict):
        return None
    return DirectResponseView(_int(raw.get("statusCode")), as_str(raw.get("body")))


def ip_rules(raw: object) -> tuple[IPFilterRuleView, ...]:
    return tuple(
        IPFilterRuleView(as_str(as_dict(r).get("source")), as_str(as_dict(r).get("cidr")))
        for r in as_list(raw)
    )


def ip(d: dict[str, Any]) -> IPPolicies:
    return IPPolicies(ip_rules(d.get("ipAllowPolicy")), ip_rules(d.get("ipDenyPolicy")))


def local_rate_limit(raw: object) -> LocalRateLimitView | None:
    local = as_dict(raw).get("local")
    if not isinstance(local, dict):
        return None
    return LocalRateLimitView(
        requests=_int(local.get("requests")),
        unit=as_str(local.get("unit")),
        burst=_int(local.get("burst")),
        response_status_code=_int(local.get("responseStatusCode")),
        response_headers=name_values(local.get("responseHeadersToAdd")),
    )


def replace_prefix(raw: object) -> tuple[tuple[str, str], ...]:
    return tuple(
        (as_str(as_dict(r).get("prefix")), as_str(as_dict(r).get("replacement")))
        for r in as_list(as_dict(raw).get("replacePrefix"))
    )


def cors(raw: object) -> CORSPolicyView | None:
    if not isinstance(raw, dict):
        return None
    return CORSPolicyView(
        allow_origin=_strs(raw.get("allowOrigin")),
        allow_methods=_strs(raw.get("allowMethods")),
        allow_headers=_strs(raw.get("allowHeaders")),
        expose_headers=_strs(raw.get("exposeHeaders")),
        max_age=as_str(raw.get("maxAge")),
        allow_credentials=as_bool(raw.get("allowCredentials")),
        allow_private_network=as_bool(raw.get("allowPrivateNetwork")),
    )
