"""contour.heptio.com/* annotations and Go durations → typed values (spec §2.2–§2.4, §3.6)."""

from __future__ import annotations

import pytest

from controller.dag.model import Timeout
from controller.k8s import annotations as ann

INF = Timeout.INFINITE


def test_infinite_constant_matches_the_model() -> None:
    assert ann.INFINITE_TIMEOUT == Timeout.INFINITE


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("1m30s", 90.0, id="minutes-seconds"),
        pytest.param("600ms", 0.6, id="milliseconds"),
        pytest.param("1h", 3600.0, id="hour"),
        pytest.param("1.5h", 5400.0, id="fractional"),
        pytest.param(".5s", 0.5, id="leading-dot"),
        pytest.param("1.s", 1.0, id="trailing-dot"),
        pytest.param("0", 0.0, id="bare-zero"),
        pytest.param("-2s", -2.0, id="negative"),
        pytest.param("+3s", 3.0, id="plus-sign"),
        pytest.param("10us", 0.00001, id="micro-us"),
        pytest.param("10µs", 0.00001, id="micro-sign"),
        pytest.param("10μs", 0.00001, id="micro-greek-mu"),
        pytest.param("1h2m3s4ms5us6ns", 3723.004005006, id="every-unit"),
    ],
)
def test_go_duration(text: str, seconds: float) -> None:
    assert ann.parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "600",
        "peanut",
        "infinity",
        "infinite",
        "1h30",
        "s",
        ".s",
        "1d",
        " 1s",
        "1s ",
        "--1s",
        "99999999999999999999h",
        "3000000h",
        "1" * 5000 + "s",
    ],
    ids=lambda t: repr(t)[:20],
)
def test_go_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ann.parse_go_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", None, id="empty-unset"),
        pytest.param("0s", None, id="zero-unset-DOC-differs"),
        pytest.param("infinity", INF, id="infinity"),
        pytest.param("600", INF, id="no-unit-infinite"),
        pytest.param("peanut", INF, id="garbage-infinite"),
        pytest.param("infinite", INF, id="infinite-typo"),
        pytest.param("-5s", INF, id="negative-infinite"),
        pytest.param("1m30s", 90.0, id="duration"),
        pytest.param("600s", 600.0, id="seconds"),
    ],
)
def test_request_timeout(text: str, expected: float | None) -> None:
    assert ann.timeout(text) == expected
    assert ann.request_timeout({ann.REQUEST_TIMEOUT: text}) == expected


def test_request_timeout_absent_key() -> None:
    assert ann.request_timeout({}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0.0), ("infinity", 0.0), ("-1s", 0.0), ("0s", 0.0), ("150ms", 0.15), ("junk", 0.0)],
)
def test_per_try_timeout(text: str, expected: float) -> None:
    assert ann.per_try_timeout({ann.PER_TRY_TIMEOUT: text}) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("+7", 7),
        ("-3", 0),
        ("0", 0),
        ("", 0),
        ("1e6", 0),
        ("3.5", 0),
        (" 7", 0),
        ("1_000", 0),
        ("2147483647", 2147483647),
        ("2147483648", 0),
    ],
)
def test_num_retries_and_circuit_breakers(text: str, expected: int) -> None:
    assert ann.num_retries({ann.NUM_RETRIES: text}) == expected
    assert ann.circuit_breaker({ann.MAX_CONNECTIONS: text}, ann.MAX_CONNECTIONS) == expected


@pytest.mark.parametrize(
    ("annotations", "class_name", "expected"),
    [
        pytest.param({}, "", "", id="none"),
        pytest.param({ann.KUBERNETES_CLASS: "nginx"}, "", "nginx", id="kubernetes"),
        pytest.param(
            {ann.CONTOUR_CLASS: "contour", ann.KUBERNETES_CLASS: "nginx"},
            "",
            "contour",
            id="contour-wins",
        ),
        pytest.param(
            {ann.CONTOUR_CLASS: "", ann.KUBERNETES_CLASS: "nginx"},
            "",
            "",
            id="empty-contour-key-still-wins",
        ),
        pytest.param({}, "nginx", "nginx", id="ingressClassName"),
        pytest.param(
            {ann.KUBERNETES_CLASS: "contour"},
            "nginx",
            "contour",
            id="annotation-before-ingressClassName",
        ),
    ],
)
def test_ingress_class(annotations: dict[str, str], class_name: str, expected: str) -> None:
    assert ann.ingress_class(annotations, class_name) == expected
    assert ann.class_matches(annotations, "contour", class_name) == (expected in ("", "contour"))


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({}, {}, id="none"),
        pytest.param(
            {ann.UPSTREAM_PROTOCOL + "h2": " http , 443"},
            {"http": "h2", "443": "h2"},
            id="trimmed-names-and-numbers",
        ),
        pytest.param(
            {
                ann.UPSTREAM_PROTOCOL + "tls": "a",
                ann.UPSTREAM_PROTOCOL + "h2c": "a,b",
                ann.UPSTREAM_PROTOCOL + "h2": "a,b,c",
            },
            {"a": "tls", "b": "h2c", "c": "h2"},
            id="tls-beats-h2c-beats-h2",
        ),
    ],
)
def test_upstream_protocols(annotations: dict[str, str], expected: dict[str, str]) -> None:
    assert ann.upstream_protocols(annotations) == expected


@pytest.mark.parametrize(
    ("annotations", "force", "http"),
    [
        ({}, False, True),
        ({ann.FORCE_SSL_REDIRECT: "true"}, True, True),
        ({ann.FORCE_SSL_REDIRECT: "True"}, False, True),
        ({ann.ALLOW_HTTP: "false"}, False, False),
        ({ann.ALLOW_HTTP: "False"}, False, True),
    ],
)
def test_redirect_and_allow_http(annotations: dict[str, str], force: bool, http: bool) -> None:
    assert ann.force_ssl_redirect(annotations) is force
    assert ann.http_allowed(annotations) is http


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.3", "1.3"),
        ("1.2", "1.2"),
        ("1.1", "1.1"),
        ("", "1.1"),
        ("0.9999", "1.1"),
        (" 1.3", "1.1"),
    ],
)
def test_tls_version(value: str, expected: str) -> None:
    assert ann.tls_minimum_protocol_version({ann.TLS_MINIMUM_PROTOCOL_VERSION: value}) == expected


def test_websocket_routes_trimmed() -> None:
    assert ann.websocket_routes({ann.WEBSOCKET_ROUTES: "/ws1 , /ws2,,"}) == {"/ws1", "/ws2"}
