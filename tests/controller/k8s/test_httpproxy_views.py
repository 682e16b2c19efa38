"""HTTPProxy views: a tolerant parse of the v1.33 shape (namespaces defaulted, absent kept
apart from empty, garbage treated as absent)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.k8s.httpproxy_parts import (
    HeaderConditionView,
    HPServiceView,
    IPFilterRuleView,
    IPPolicies,
    LocalRateLimitView,
    MatchConditionView,
    RetryPolicyView,
)
from controller.k8s.httpproxy_views import HTTPProxyView, IncludeView, httpproxy_view


def _obj(spec: Any, ns: str | None = "n") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p"}
    if ns is not None:
        meta["namespace"] = ns
    return {"kind": "HTTPProxy", "metadata": meta, "spec": spec}


def test_a_full_proxy() -> None:
    view = httpproxy_view(_obj({
        "virtualhost": {"fqdn": "a.com", "tls": {"secretName": "s", "passthrough": False},
                        "ipDenyPolicy": [{"source": "Peer", "cidr": "1.2.3.4"}],
                        "rateLimitPolicy": {"local": {"requests": 2, "unit": "second"}}},
        "includes": [{"name": "c", "conditions": [{"prefix": "/c"}]},
                     {"name": "d", "namespace": "m"}],
        "routes": [{"conditions": [{"header": {"name": "x", "exact": "1", "ignoreCase": True}}],
                    "services": [{"name": "s1", "port": 80, "mirror": True, "weight": 5}],
                    "retryPolicy": {"count": 3, "retryOn": ["5xx", 7]},
                    "internalRedirectPolicy": {}}],
        "tcpproxy": {"includes": {"name": "t"}},
    }))
    assert view.key == ("n", "p") and view.is_root and view.fqdn == "a.com"
    assert view.includes == (IncludeView(("n", "c"), (MatchConditionView(prefix="/c"),)),
                             IncludeView(("m", "d")))
    (route,) = view.routes
    assert route.conditions == (MatchConditionView(
        header=HeaderConditionView("x", exact="1", ignore_case=True)),)
    assert route.services == (HPServiceView("s1", 80, 5, True),)
    assert route.retry == RetryPolicyView(3, "", ("5xx",))
    assert route.internal_redirect
    assert view.vhost is not None
    assert view.vhost.ip == IPPolicies(deny=(IPFilterRuleView("Peer", "1.2.3.4"),))
    assert view.vhost.rate_limit == LocalRateLimitView(2, "second")
    assert view.tcpproxy is not None and view.tcpproxy.include == ("n", "t")


@pytest.mark.parametrize("spec", [None, [], "x", {"routes": "x", "includes": [None, 3],
                                                  "virtualhost": [], "tcpproxy": 7}])
def test_garbage_is_absent(spec: Any) -> None:
    view = httpproxy_view(_obj(spec, ns=None))
    assert view.namespace == "default" and not view.is_root and view.tcpproxy is None
    assert view.routes == () and all(i.key[0] == "default" for i in view.includes)


def test_a_blank_virtualhost_is_still_a_root() -> None:
    view = httpproxy_view(_obj({"virtualhost": {}}))
    assert view.is_root and view.fqdn == ""
    assert not HTTPProxyView("n", "p").is_root


def test_a_route_key_left_out_parses_as_the_view_default() -> None:
    """Views parse only the keys a route has (perf): every HPRouteView field has a parser,
    and its default is what that parser makes of an absent key."""
    from dataclasses import fields

    from controller.k8s import httpproxy_parts as parts
    from controller.k8s.httpproxy_views import _IP_KEYS, _ROUTE_FIELDS, HPRouteView

    parsers = {name: parse for entries in _ROUTE_FIELDS.values() for name, parse in entries}
    defaults = HPRouteView()
    assert sorted([*parsers, "ip"]) == sorted(f.name for f in fields(HPRouteView))
    for name, parse in parsers.items():
        assert parse(None) == getattr(defaults, name), name
    assert parts.ip({}) == defaults.ip
    assert sorted(_IP_KEYS) == ["ipAllowPolicy", "ipDenyPolicy"]
