"""HTTPProxy route and cluster policies (v1.33 policy.go), table-driven."""

from __future__ import annotations

import pytest

from controller.dag import policy as p
from controller.dag.model import HashPolicy, HeadersPolicy, Redirect, RetryPolicy, Timeout
from controller.dag.proxystatus import ProxyConditions
from controller.k8s.httpproxy_parts import (
    HashPolicyView,
    HeadersPolicyView,
    LoadBalancerPolicyView,
    RedirectPolicyView,
    RetryPolicyView,
    TimeoutPolicyView,
)


@pytest.mark.parametrize(("name", "want"), [
    ("x-foo", "X-Foo"), ("HOST", "Host"), ("x foo", "x foo"), ("a--b", "A--B"),
])
def test_canonical_header(name: str, want: str) -> None:
    assert p.canonical_header(name) == want


@pytest.mark.parametrize(("value", "want"), [
    ("plain", "plain"),
    ("50%", "50%%"),
    ("%CONTOUR_NAMESPACE%", "ns"),
    ("%HOSTNAME%", "%HOSTNAME%"),
    ("%REQ(X-Foo)%", "%REQ(X-Foo)%"),
    ("%UNKNOWN%", "%%UNKNOWN%%"),
])
def test_escape_header_value(value: str, want: str) -> None:
    assert p.escape_header_value(value, {"CONTOUR_NAMESPACE": "ns"}) == want


def test_headers_policy() -> None:
    view = HeadersPolicyView((("x-b", "1"), ("Host", "h.com"), ("x-a", "2")), ("x-c", "x-d"))
    assert p.headers_policy(view, True, {}) == HeadersPolicy(
        (("X-A", "2"), ("X-B", "1")), ("X-C", "X-D"), "h.com")
    assert p.headers_policy(None, True, {}) is None
    dynamic = HeadersPolicyView((("host", "%REQ(x-host)%"),))
    assert p.headers_policy(dynamic, True, {}) == HeadersPolicy(host_rewrite_header="X-Host")


@pytest.mark.parametrize(("view", "allow_host", "message"), [
    (HeadersPolicyView((("x-foo", "1"), ("X-Foo", "2"))), True,
     'duplicate header addition: "X-Foo"'),
    (HeadersPolicyView((("host", "h"),)), False, 'rewriting "Host" header is not supported'),
    (HeadersPolicyView((), ("a", "A")), True, 'duplicate header removal: "A"'),
    (HeadersPolicyView((("a b", "1"),)), True,
     "invalid set header \"a b\": [a valid HTTP header must consist of alphanumeric characters "
     "or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]"),
])
def test_headers_policy_errors(view: HeadersPolicyView, allow_host: bool, message: str) -> None:
    with pytest.raises(p.PolicyError) as err:
        p.headers_policy(view, allow_host, {})
    assert str(err.value) == message


@pytest.mark.parametrize(("view", "want"), [
    (None, (None, None, None)),
    (TimeoutPolicyView("1s", "infinity", "0s"), (1.0, Timeout.INFINITE, None)),
    (TimeoutPolicyView("", "1m", "infinite"), (None, 60.0, Timeout.INFINITE)),
])
def test_timeout_policy(view: TimeoutPolicyView | None, want: tuple[object, ...]) -> None:
    assert p.timeout_policy(view) == want


def test_timeout_policy_error() -> None:
    with pytest.raises(p.PolicyError) as err:
        p.timeout_policy(TimeoutPolicyView("soon"))
    assert str(err.value) == ('error parsing response timeout: unable to parse timeout string '
                              '"soon": time: invalid duration "soon"')


@pytest.mark.parametrize(("view", "want"), [
    (RetryPolicyView(5), RetryPolicy("5xx", 5, 0.0)),
    (RetryPolicyView(0, "250ms"), RetryPolicy("5xx", 1, 0.25)),
    (RetryPolicyView(-1, "x"), RetryPolicy("5xx", 0, 0.0)),
    (RetryPolicyView(2, "", ("gateway-error", "retriable-status-codes"), (503,)),
     RetryPolicy("gateway-error,retriable-status-codes", 2, 0.0, (503,))),
])
def test_retry_policy(view: RetryPolicyView, want: RetryPolicy) -> None:
    assert p.retry_policy(view) == want


def test_request_hash_keeps_the_valid_policies_and_warns_about_the_rest() -> None:
    cond = ProxyConditions()
    view = LoadBalancerPolicyView("RequestHash", (
        HashPolicyView(header_name="x-user", terminal=True), HashPolicyView(),
        HashPolicyView(header_name="X-User"), HashPolicyView(query_name="Q"),
        HashPolicyView(source_ip=True), HashPolicyView(source_ip=True),
        HashPolicyView(header_name="a b"), HashPolicyView(query_name="")))
    assert p.request_hash(view, cond) == ((
        HashPolicy("header", "X-User", True), HashPolicy("query", "q"),
        HashPolicy("source_ip")), "RequestHash")
    assert [w.message for w in cond.warnings] == [
        "ignoring invalid request hash policy, must set exactly one of hashSourceIP or "
        "headerHashOptions or queryParameterHashOptions",
        "ignoring invalid header hash policy options with duplicated header name X-User",
        "ignoring invalid request hash policy, hashSourceIP specified multiple times",
        "ignoring invalid header hash policy options with invalid header name \"a b\": [a "
        "valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
        "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]",
        "ignoring invalid query parameter hash policy options with an invalid empty query "
        "parameter name",
    ]


def test_request_hash_with_nothing_valid_falls_back_to_round_robin() -> None:
    cond = ProxyConditions()
    assert p.request_hash(LoadBalancerPolicyView("RequestHash", (HashPolicyView(),)), cond) == (
        (), "RoundRobin")
    assert cond.ok and len(cond.warnings) == 2


@pytest.mark.parametrize(("strategy", "want"), [
    ("Cookie", "Cookie"), ("Random", "Random"), ("RoundRobin", ""), ("bogus", ""),
])
def test_strategy(strategy: str, want: str) -> None:
    assert p.strategy(LoadBalancerPolicyView(strategy)) == want


def test_redirect() -> None:
    assert p.redirect(RedirectPolicyView("https", "h", 443, 0, "/p")) == Redirect(
        "https", "h", 443, "/p", "", 302)
    with pytest.raises(p.PolicyError):
        p.redirect(RedirectPolicyView(path="/a", prefix="/b"))


@pytest.mark.parametrize(("replacements", "want"), [
    ((("/a", "/b"), ("", "/c")), None),
    ((("/foo", "/b"), ("/foo", "/c")),
     ("DuplicateReplacement", "duplicate replacement prefix '/foo'")),
    ((("", "/b"), ("", "/c")), ("AmbiguousReplacement", "ambiguous prefix replacement")),
])
def test_replace_prefix_error(replacements: tuple[tuple[str, str], ...],
                              want: tuple[str, str] | None) -> None:
    assert p.replace_prefix_error(replacements) == want


@pytest.mark.parametrize(("prefix", "want"),
                         [("/a", "/exact"), ("/b", "/default"), ("/", "/default")])
def test_chosen_replacement(prefix: str, want: str) -> None:
    assert p.chosen_replacement((("", "/default"), ("/a", "/exact")), prefix) == want
