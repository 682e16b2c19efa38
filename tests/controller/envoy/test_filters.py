"""Per-vhost/route filter configs (CORS, RBAC IP rules, local rate limit) and the HCM's list."""

from __future__ import annotations

from google.protobuf import text_format

from controller.dag import model as m
from controller.envoy import filters, pb
from controller.envoy.cookies import LUA


def test_hcm_filters_end_with_the_router() -> None:
    names = [f.name for f in filters.hcm_filters()]
    assert names == [filters.GRPC_WEB, filters.CORS, filters.LOCAL_RATE_LIMIT, LUA, filters.RBAC,
                     filters.ROUTER]


def test_header_options_replace_and_are_sorted() -> None:
    got = filters.header_options((("b", "2"), ("a", "1")))
    assert [(o.header.key, o.append_action) for o in got] == [
        ("a", pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD),
        ("b", pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD),
    ]


def test_cors_policy() -> None:
    cors = m.CORSPolicy(allow_origin=(("https://a.io", False), ("https://.*", True)),
                        allow_methods=("GET", "PUT"), allow_headers=("a", "b"),
                        expose_headers=("c",), max_age="600", allow_credentials=True)
    want = """
        allow_origin_string_match { exact: "https://a.io" ignore_case: true }
        allow_origin_string_match { safe_regex { regex: "https://.*" } }
        allow_methods: "GET,PUT" allow_headers: "a,b" expose_headers: "c" max_age: "600"
        allow_credentials { value: true } allow_private_network_access {}
    """
    assert filters.cors_policy(cors) == text_format.Parse(want, pb.CorsPolicy())


def test_ip_filter_allow_and_deny() -> None:
    rules = (m.CIDR("10.0.0.0", 8), m.CIDR("192.168.1.1", 32, remote=True))
    allow = filters.ip_filter(m.IPFilter(True, rules))
    policy = allow.rbac.rules.policies[filters.IP_RULES]
    assert allow.rbac.rules.action == pb.RBACRules.ALLOW
    assert [p.WhichOneof("identifier") for p in policy.principals] == ["direct_remote_ip",
                                                                         "remote_ip"]
    assert policy.principals[1].remote_ip.prefix_len.value == 32
    assert list(policy.permissions) == [pb.Permission(any=True)]
    assert filters.ip_filter(m.IPFilter(False, rules)).rbac.rules.action == pb.RBACRules.DENY


def test_local_rate_limit() -> None:
    limit = m.LocalRateLimit(10, 5, 1.5, status=503, headers=(("x-rl", "1"),))
    got = filters.local_rate_limit(limit, "a.io")
    assert got.stat_prefix == "vhost.a.io"
    assert (got.token_bucket.max_tokens, got.token_bucket.tokens_per_fill.value) == (10, 5)
    assert got.token_bucket.fill_interval == pb.Duration(seconds=1, nanos=500_000_000)
    assert got.status.code == 503
    assert got.filter_enabled.default_value.numerator == 100
    assert got.filter_enforced.default_value.numerator == 100
    assert [h.header.key for h in got.response_headers_to_add] == ["x-rl"]
    assert not filters.local_rate_limit(m.LocalRateLimit(1, 1, 1.0), "a.io").HasField("status")


def test_per_filter_config_only_what_is_set() -> None:
    assert filters.per_filter_config("a.io") == {}
    assert filters.per_filter_config("a.io", ip=m.IPFilter(True, ())) == {}  # no rules: none
    got = filters.per_filter_config(
        "a.io", cors=m.CORSPolicy(allow_origin=(("*", False),)),
        ip=m.IPFilter(True, (m.CIDR("10.0.0.0", 8),)), rate_limit=m.LocalRateLimit(1, 1, 1.0))
    assert sorted(got) == [filters.CORS, filters.LOCAL_RATE_LIMIT, filters.RBAC]
