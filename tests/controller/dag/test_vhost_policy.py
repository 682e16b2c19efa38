"""HTTPProxy virtual-host policies: CORS, IP filters, local rate limits (table-driven)."""

from __future__ import annotations

import pytest

from controller.dag import vhost_policy as v
from controller.dag.model import CIDR, CORSPolicy, IPFilter, LocalRateLimit
from controller.dag.policy import PolicyError
from controller.dag.proxystatus import ProxyConditions
from controller.k8s.httpproxy_parts import (
    CORSPolicyView,
    IPFilterRuleView,
    IPPolicies,
    LocalRateLimitView,
)


def test_cors() -> None:
    view = CORSPolicyView(("https://a.com", r"https://.*\.b\.com", "*"), ("GET",),
                          max_age="10m", allow_credentials=True)
    assert v.cors(view) == CORSPolicy(
        (("https://a.com", False), (r"https://.*\.b\.com", True), ("*", False)), ("GET",),
        max_age="600", allow_credentials=True)
    assert v.cors(CORSPolicyView(("*",), ("GET",), max_age="0s")).max_age == "0"  # type: ignore[union-attr]


@pytest.mark.parametrize(("view", "message"), [
    (CORSPolicyView(("**",), ("GET",)),
     'invalid allowed origin "**": allowed origin is invalid exact match and invalid regex match'),
    (CORSPolicyView((), ("GET",)), "invalid allowed origin configuration with length 0"),
    (CORSPolicyView(("*",), ()), "invalid allowed methods configuration with length 0"),
])
def test_cors_errors(view: CORSPolicyView, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        v.cors(view)
    assert str(err.value) == message


def test_ip_filter() -> None:
    cond = ProxyConditions()
    rules = (IPFilterRuleView("Peer", "127.0.0.1"), IPFilterRuleView("Remote", "10.1.2.3/8"),
             IPFilterRuleView("Peer", "::1"))
    assert v.ip_filter(IPPolicies(deny=rules), cond) == (IPFilter(False, (
        CIDR("127.0.0.1", 32), CIDR("10.0.0.0", 8, True), CIDR("::1", 128))), True)
    assert v.ip_filter(IPPolicies(), cond) == (None, True)
    assert cond.ok


@pytest.mark.parametrize(("policies", "errors"), [
    (IPPolicies((IPFilterRuleView("Peer", "1.1.1.1"),), (IPFilterRuleView("Peer", "2.2.2.2"),)),
     [("IncompatibleIPAddressFilters", "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`")]),
    (IPPolicies((IPFilterRuleView("Peer", "nope"), IPFilterRuleView("Peer", "1.1.1.1/99"))),
     [("InvalidCIDR", "nope failed to parse: invalid CIDR address: nope"),
      ("InvalidCIDR", "1.1.1.1/99 failed to parse: invalid CIDR address: 1.1.1.1/99")]),
])
def test_ip_filter_errors(policies: IPPolicies, errors: list[tuple[str, str]]) -> None:
    cond = ProxyConditions()
    assert v.ip_filter(policies, cond) == (None, False)
    assert [(e.reason, e.message) for e in cond.errors] == errors


def test_local_rate_limit() -> None:
    view = LocalRateLimitView(10, "minute", 5, 503, (("x-b", "1"), ("x-a", "2")))
    assert v.local_rate_limit(view) == LocalRateLimit(
        15, 10, 60.0, 503, (("X-A", "2"), ("X-B", "1")))
    assert v.local_rate_limit(LocalRateLimitView(1, "hour")) == LocalRateLimit(1, 1, 3600.0)


@pytest.mark.parametrize(("view", "message"), [
    (LocalRateLimitView(0, "second"), "invalid requests value 0 in local rate limit policy"),
    (LocalRateLimitView(1, "day"), 'invalid unit "day" in local rate limit policy'),
    (LocalRateLimitView(1, "second", response_headers=(("a", "1"), ("A", "2"))),
     'duplicate header addition: "A"'),
])
def test_local_rate_limit_errors(view: LocalRateLimitView, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        v.local_rate_limit(view)
    assert str(err.value) == message
