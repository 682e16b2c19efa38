"""Envoy's own constraints, checked before a resource is sent: `violations(message)` lists
what Envoy would reject, as `field.path[i]: reason`; empty when Envoy would accept it.

What is checked:
- the protoc-gen-validate rules carried as field options in the xds-protos descriptors
  (controller/envoy/pgv_rules.py), descending into `Any` payloads (typed_config);
- what Envoy checks beyond them (measured with `envoy --mode validate`, Envoy 1.40): every
  Duration lies in [0, 9223372036s) with nanos in [0, 1e9); a RegexMatcher's regex is RE2 with
  a program of at most 100 instructions (the check controller/dag/ingress.py applies to
  Ingress paths); FilterChainMatch server names have no partial wildcard; where Envoy
  resolves no names (a ClusterLoadAssignment, a STATIC cluster's endpoints) the socket
  address is an IP literal; header policies touch no `:`-prefixed or `host` header; a local
  rate limit refills at most every 50 ms; an RBAC CIDR is an IP; health check expected
  statuses lie in [100, 600] with start < end.

Cost (bench/bench_constraints.py): the check of a message type is generated once from its
descriptor and cached (controller/envoy/constraint_plans.py); it reads only fields whose
subtree carries a rule. Callers check what they freshly encode, not the bytes they reuse.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.message import Message

from controller.dag.ingress import RE2_MAX_PROGRAM_SIZE, re2_compatible
from controller.envoy.constraint_plans import Loc, Out, Planner, Run, fail, rules_of
from controller.envoy.core import is_ip_literal
from controller.envoy.pgv_rules import Check, value_check

MAX_DURATION_SECONDS = 9_223_372_036
"""Exclusive: Envoy converts durations to int64 nanoseconds (9223372035s passes, 9223372036s
is "Duration out-of-range"); protobuf's own limit, 315576000000s, is far above it."""
MAX_REASONS = 3


def violations(message: Message) -> tuple[str, ...]:
    """Every constraint `message` breaks, as `path: reason`, in field order."""
    out: Out = []
    desc = message.DESCRIPTOR
    planner = _IP_PLANNER if desc.full_name == _ASSIGNMENT else _PLANNER
    planner.walker(desc)(message, None, out)
    return tuple(out)


def rejection(what: str, message: Message) -> str | None:
    """`Envoy would reject <what>: <violations>` (the first few), or None when it is fine."""
    return describe(what, violations(message))


def describe(what: str, found: tuple[str, ...]) -> str | None:
    if not found:
        return None
    more = f" (and {len(found) - MAX_REASONS} more)" if len(found) > MAX_REASONS else ""
    return f"Envoy would reject {what}: {'; '.join(found[:MAX_REASONS])}{more}"


def field_check(message_type: type[Message], name: str) -> Check | None:
    """The PGV check of one value of a scalar field (of one item, for a repeated field), for
    callers that check a value they know goes there; None when no rule applies."""
    fd = message_type.DESCRIPTOR.fields_by_name[name]
    rules = rules_of(fd)
    if rules is not None and fd.is_repeated:
        rules = rules.repeated.items
    return value_check(rules, fd.enum_type) if rules is not None else None


# -- what Envoy checks beyond PGV ------------------------------------------------------------

def _duration_range(msg: Any, loc: Loc, out: Out) -> None:
    if msg.seconds < 0 or msg.nanos < 0:
        fail(loc, "must not be negative", out)
    elif msg.seconds >= MAX_DURATION_SECONDS or msg.nanos > 999_999_999:
        fail(loc, f"must be less than {MAX_DURATION_SECONDS}s", out)


def _regex_program(msg: Any, loc: Loc, out: Out) -> None:
    if not re2_compatible(msg.regex):
        fail((loc, "regex"), "must be RE2 syntax with a program size of at most "
              f"{RE2_MAX_PROGRAM_SIZE}", out)


def _server_names(msg: Any, loc: Loc, out: Out) -> None:
    for i, name in enumerate(msg.server_names):
        if "*" in name and not (name.startswith("*.") and "*" not in name[1:]):
            fail(((loc, "server_names"), i), "partial wildcards are not supported", out)


def _ip_address(socket: Any, loc: Loc, out: Out) -> None:
    """A SocketAddress where Envoy resolves no names (an EDS assignment)."""
    if not socket.resolver_name and not is_ip(socket.address):
        fail((loc, "address"), f"must be an IP address, not {socket.address!r}", out)


def _ip_endpoints(cla: Any, loc: Loc, out: Out) -> None:
    """The same for the endpoints of a STATIC cluster (rare: not worth a planner)."""
    for i, locality in enumerate(cla.endpoints):
        for j, lb in enumerate(locality.lb_endpoints):
            address = lb.endpoint.address
            if address.WhichOneof("address") != "socket_address":
                continue
            socket = address.socket_address
            if not socket.resolver_name and not is_ip(socket.address):
                where = (((((loc, "endpoints"), i), "lb_endpoints"), j),
                         "endpoint.address.socket_address.address")
                fail(where, f"must be an IP address, not {socket.address!r}", out)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def is_ip(address: str) -> bool:
    """is_ip_literal(), with a fast path for plain dotted quads (perf: ipaddress takes
    ~1.5 µs; the regex ~0.3 µs)."""
    return _IPV4.fullmatch(address) is not None or is_ip_literal(address)


def _static_cluster(cluster: Any, loc: Loc, out: Out) -> None:
    kind = cluster.WhichOneof("cluster_discovery_type")
    static = (kind is None or kind == "type") and cluster.type == 0  # STATIC, the default
    if static and cluster.HasField("load_assignment"):
        _ip_endpoints(cluster.load_assignment, (loc, "load_assignment"), out)


def modifiable(header: str) -> bool:
    """Envoy's HeaderUtility::isModifiableHeader: no `:`-prefixed (pseudo) header and not
    `host` may be added, set or removed by a header policy."""
    return not header.startswith(":") and header.lower() != "host"


def _header_to_add(option: Any, loc: Loc, out: Out) -> None:
    if not modifiable(option.header.key):
        fail((loc, "header.key"), ":-prefixed or host headers may not be modified", out)


_REMOVE_FIELDS = ("request_headers_to_remove", "response_headers_to_remove")


def _headers_to_remove(msg: Any, loc: Loc, out: Out) -> None:
    """On every message with *_headers_to_remove (route tables, vhosts, routes, weighted
    cluster entries)."""
    for field in _REMOVE_FIELDS:
        for i, name in enumerate(getattr(msg, field)):
            if not modifiable(name):
                fail(((loc, field), i), ":-prefixed or host headers may not be removed", out)


MIN_FILL_INTERVAL = 0.05


def _local_rate_limit(limit: Any, loc: Loc, out: Out) -> None:
    if not limit.HasField("token_bucket"):
        return
    interval = limit.token_bucket.fill_interval
    if interval.seconds + interval.nanos / 1e9 < MIN_FILL_INTERVAL:
        fail((loc, "token_bucket.fill_interval"), "must be at least 50ms", out)


def _cidr_range(cidr: Any, loc: Loc, out: Out) -> None:
    if not is_ip(cidr.address_prefix):
        fail((loc, "address_prefix"), f"must be an IP address, not {cidr.address_prefix!r}", out)


def _expected_statuses(check: Any, loc: Loc, out: Out) -> None:
    """HTTP health check status ranges: 100 <= start < end <= 600."""
    for i, status in enumerate(check.expected_statuses):
        if not 100 <= status.start < status.end <= 600:
            fail(((loc, "expected_statuses"), i),
                 "must be a range within [100, 600] with start < end", out)


_HOOKS: dict[str, Run] = {
    "google.protobuf.Duration": _duration_range,
    "envoy.type.matcher.v3.RegexMatcher": _regex_program,
    "envoy.config.listener.v3.FilterChainMatch": _server_names,
    "envoy.config.cluster.v3.Cluster": _static_cluster,
    "envoy.config.core.v3.HeaderValueOption": _header_to_add,
    "envoy.config.route.v3.RouteConfiguration": _headers_to_remove,
    "envoy.config.route.v3.VirtualHost": _headers_to_remove,
    "envoy.config.route.v3.Route": _headers_to_remove,
    "envoy.config.route.v3.WeightedCluster.ClusterWeight": _headers_to_remove,
    "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit": _local_rate_limit,
    "envoy.config.core.v3.CidrRange": _cidr_range,
    "envoy.config.core.v3.HealthCheck.HttpHealthCheck": _expected_statuses,
}
_ASSIGNMENT = "envoy.config.endpoint.v3.ClusterLoadAssignment"
_PLANNER = Planner(_HOOKS)
# A ClusterLoadAssignment sent on its own (EDS) is checked with socket addresses that must be
# IPs: one walk instead of a second one over its endpoints (perf: ~2 µs an assignment).
_IP_PLANNER = Planner({**_HOOKS, "envoy.config.core.v3.SocketAddress": _ip_address})


def forget() -> None:
    """Drop the verdicts the planners keep by payload bytes (after a mass removal)."""
    _PLANNER.forget()
    _IP_PLANNER.forget()
