"""Cheap tests of the scenario harness's own parts (no controller needed).

The last group runs a real Envoy from a *static* configuration (written here,
not by the controller) to prove the client/backends speak correctly through
Envoy: HTTP/2 via ALPN, TLS 1.1 with Envoy's CBC suites, WebSocket echo,
HTTP/1.0, SNI filter-chain mismatch, upstream retries counted per attempt id.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
import time
import warnings
from pathlib import Path

import pytest
import yaml
from harness import client
from harness.backends import (
    ATTEMPT_HEADER,
    DELAY_HEADER,
    FAIL_FIRST_HEADER,
    FAIL_STATUS_HEADER,
    BackendPool,
    ObservedRequest,
)
from harness.certs import HarnessCA, cert_cn, server_context
from harness.checks import Check, check_lines
from harness.controller import ROUTE_LAYOUT_ENV, Ports, config_document, serve_argv
from harness.envoy import envoy_binary
from harness.ports import allocate_ports
from harness.procs import ManagedProcess
from harness.runner import ScenarioRun, check_response, file_name_for, is_negative
from harness.scenario import (
    Scenario,
    ScenarioError,
    generate_secrets,
    load,
    parse_duration,
    resolve_placeholders,
    scenario_id,
    scenarios_dir,
    scenarios_dirs,
)
from harness.schema import check_controller, check_observed, check_request, check_status
from harness.sinks import OWNED_LABEL, WATCHED_KINDS, ClusterSink, refused_row, status_row
from harness.verdicts import check_observed as verdict_check_observed
from harness.verdicts import (
    check_repeated,
    check_status_row,
    observed_matches,
    repeated_problem,
)


@pytest.fixture
def pool():
    p = BackendPool()
    yield p
    p.close()


def req(port: int, **kw) -> client.Response:
    kw.setdefault("host", "example.com")
    return client.request(port, client.RequestOptions(**kw))


# ---------------------------------------------------------------- backends


def test_backend_identity_path_headers(pool):
    (b,) = pool.start([("default/s1:80", None)])
    r = req(b.port, path="/any/deep?q=1", extra_headers=[("x-test", "yes")])
    assert r.status == 200
    assert r.backend == "default/s1:80"
    assert r.header("x-backend") == "default/s1:80"
    body = r.json()
    assert body["path"] == "/any/deep?q=1"
    assert body["headers"]["x-test"] == "yes"
    assert body["host"] == "example.com"
    assert [o.path for o in b.observed()] == ["/any/deep?q=1"]


def test_backends_start_concurrently_on_distinct_ports(pool):
    bs = pool.start([(f"default/s{i}:80", None) for i in range(30)])
    assert len({b.port for b in bs}) == 30
    assert all(req(b.port).backend == b.identity for b in bs[:5])


def test_backend_control_fail_first_status_delay(pool):
    (b,) = pool.start([("default/backend:80", None)])
    h = [(ATTEMPT_HEADER, "a1"), (FAIL_FIRST_HEADER, "2"), (FAIL_STATUS_HEADER, "502")]
    assert [req(b.port, extra_headers=h).status for _ in range(3)] == [502, 502, 200]
    # another attempt id counts separately
    h2 = [(ATTEMPT_HEADER, "a2"), (FAIL_FIRST_HEADER, "1")]
    assert req(b.port, extra_headers=h2).status == 503
    assert req(b.port, path="/__status/503").status == 503
    assert req(b.port, path="/__status/204?x").status == 204
    r = req(b.port, extra_headers=[(DELAY_HEADER, "0.3")])
    assert r.status == 200 and r.elapsed >= 0.3


def test_backend_websocket_echo_and_http10_raw_path(pool):
    (b,) = pool.start([("default/ws:80", None)])
    r = req(b.port, path="/ws-1", websocket=True)
    assert r.status == 101 and r.websocket_echo is True and r.backend == "default/ws:80"
    r = req(b.port, path="/a/../b/%2F?x", raw_path=True, http_version="1.0")
    assert r.status == 200 and r.json()["path"] == "/a/../b/%2F?x"
    assert r.json()["version"] == "HTTP/1.0"


def test_backend_stop_and_history(pool):
    (b,) = pool.start([("default/s:80", None)])
    req(b.port)
    pool.stop(["default/s:80"])
    assert "default/s:80" not in pool.live
    r = req(b.port)
    assert r.status is None and r.error
    (b2,) = pool.start([("default/s:80", None)])
    assert [x.port for x in pool.history("default/s:80")] == [b.port, b2.port]


def test_tls_backend_with_and_without_sni(pool):
    ca = HarnessCA()
    leaf = ca.issue("kuard-tcp.example.com", ["kuard-tcp.example.com"])
    (b,) = pool.start([("default/tcp:8443", leaf)])
    for sni in ("kuard-tcp.example.com", "other.example.com", ""):
        r = req(b.port, host=sni, scheme="https")
        assert r.status == 200, r.summary()
        assert r.cert_cn == "kuard-tcp.example.com"
        assert r.backend == "default/tcp:8443"


# ---------------------------------------------------------------- certs / TLS


def test_certificates(harness_ca):
    leaf = harness_ca.issue("*.example.com", ["*.example.com"])
    assert harness_ca.issue("*.example.com", ["*.example.com"]) is leaf  # cached
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(leaf.cert_pem)
    assert cert.issuer == harness_ca.cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["*.example.com"]
    assert cert_cn(cert.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                                fromlist=["Encoding"]).Encoding.DER)) \
        == "*.example.com"
    assert b"RSA PRIVATE KEY" in leaf.key_pem


def _tls_server(ctx: ssl.SSLContext) -> tuple[int, threading.Event]:
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def loop():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            try:
                s = ctx.wrap_socket(c, server_side=True)
                s.recv(4096)
                s.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-tls: "
                          + s.version().encode() + b"\r\n\r\nok")
                s.close()
            except (ssl.SSLError, OSError):
                c.close()
        srv.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], stop


@pytest.mark.parametrize("only", ["1.1", "1.2", "1.3"])
def test_client_tls_version_restriction(harness_ca, only):
    """The client really offers exactly what it is told (TLS 1.1 needs SECLEVEL=0)."""
    ctx = server_context(harness_ca.issue("tls.example.com"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = client.TLS_VERSIONS[only]
    port, stop = _tls_server(ctx)
    try:
        ok = req(port, host="tls.example.com", scheme="https", tls_min_version=only,
                 tls_max_version=only)
        assert ok.status == 200, ok.summary()
        assert ok.tls_version == {"1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}[only]
        assert ok.cert_cn == "tls.example.com"
        other = {"1.1": {"tls_min_version": "1.2"}, "1.2": {"tls_min_version": "1.3"},
                 "1.3": {"tls_max_version": "1.2"}}[only]
        bad = req(port, host="tls.example.com", scheme="https", **other)
        assert bad.tls_failed and bad.status is None, bad.summary()
    finally:
        stop.set()


def test_tls_failure_when_refused():
    (port,) = allocate_ports(1)
    r = req(port, scheme="https")
    assert r.tls_failed


# ---------------------------------------------------------------- scenario/runner logic


def test_negative_classification():
    assert is_negative({"host": "a", "expect_status": 404})
    assert is_negative({"host": "a", "scheme": "https", "expect_tls_failure": True})
    assert is_negative({"host": "a", "websocket": True, "expect_websocket": False})
    assert not is_negative({"host": "a", "expect_status": 503})
    assert not is_negative({"host": "a", "expect_status": 404, "expect_header": {"x": None}})
    assert not is_negative({"host": "a", "websocket": True, "expect_websocket": True})


def test_check_response_diff():
    r = client.Response(scheme="http", http_version="1.1", status=404,
                        headers=[("location", "https://x/")], body=b"")
    m = check_response({"host": "a", "expect_backend": "default/s:80"}, r)
    assert any("status: expected 200" in x for x in m) and any("backend" in x for x in m)
    assert check_response({"host": "a", "expect_status": 404}, r) == []
    body = json.dumps({"backend": "default/s:80", "path": "/p",
                       "headers": {"x-request-start": "t=1.234"}}).encode()
    ok = client.Response(scheme="http", http_version="1.1", status=200,
                         headers=[("x-backend", "default/s:80"), ("set-cookie", "a=b; Path=/")],
                         body=body)
    spec = {"host": "a", "expect_backend": "default/s:80", "expect_path_seen_by_backend": "/p",
            "expect_header_seen_by_backend": {"x-request-start": r"^t=[0-9]+\.[0-9]{3}$"},
            "expect_header": {"set-cookie": "Path=/", "x-nope": None}}
    assert check_response(spec, ok) == []
    assert check_response({**spec, "expect_header": {"set-cookie": None}}, ok)
    tls = client.Response(scheme="https", http_version="1.1", tls_failed=True, error="alert")
    assert check_response({"host": "a", "expect_tls_failure": True}, tls) == []
    assert check_response({"host": "a", "expect_backend": "default/s:80"}, tls)


def test_durations():
    assert parse_duration("200ms") == 0.2
    assert parse_duration("0.9s") == 0.9
    assert parse_duration("30s") == 30
    with pytest.raises(ScenarioError):
        parse_duration("3 sec")


def test_generate_and_placeholders(harness_ca):
    objs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "namespace": "d"},
             "data": {"tls.crt": "GENERATE", "tls.key": "GENERATE", "x": "d3Jvbmc="}},
            {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e", "namespace": "d"},
             "subsets": [{"addresses": [{"ip": "{{ip:d/e:80}}"}],
                          "ports": [{"port": "{{port:d/e:80}}"}]}]}]
    out = generate_secrets(objs, {"d/t": {"cn": "t.example.com"}}, harness_ca)
    assert b"BEGIN CERTIFICATE" in base64.b64decode(out[0]["data"]["tls.crt"])
    assert b"PRIVATE KEY" in base64.b64decode(out[0]["data"]["tls.key"])
    assert out[0]["data"]["x"] == "d3Jvbmc="
    assert objs[0]["data"]["tls.crt"] == "GENERATE"  # input untouched
    with pytest.raises(ScenarioError):
        generate_secrets(objs, {}, harness_ca)
    key_only = [{**objs[0], "data": {"tls.crt": "d3Jvbmc=", "tls.key": "GENERATE"}}]
    out2 = generate_secrets(key_only, {}, harness_ca)
    assert out2[0]["data"]["tls.crt"] == "d3Jvbmc="
    assert b"PRIVATE KEY" in base64.b64decode(out2[0]["data"]["tls.key"])
    res = resolve_placeholders(out, {"d/e:80": ("127.0.0.1", 4242)})
    assert res[1]["subsets"][0] == {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 4242}]}
    with pytest.raises(ScenarioError):
        resolve_placeholders(out, {})


def test_scenario_validation_rejects_unknown(tmp_path):
    p = tmp_path / "001-x.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "objects": "", "expect": {
        "requests": [{"host": "a", "expect_bogus": 1}]}}))
    with pytest.raises(ScenarioError, match="unknown request keys"):
        load(p)
    p.write_text(yaml.safe_dump({"name": "x", "objects": "", "requires": ["teleport"],
                                 "expect": {}}))
    with pytest.raises(ScenarioError, match="teleport"):
        load(p)


def test_runner_writes_objects_and_endpoints(tmp_path, harness_ca):
    """Object files, harness-owned Endpoints (named/unnamed ports), endpoint changes."""
    p = tmp_path / "001-x.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "endpoints": ["default/app:80", "default/plain:80"],
                                 "objects": """
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{name: http, port: 80}, {name: alt, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: default}
spec: {ports: [{port: 80, targetPort: 8080}]}
""", "expect": {"requests": [{"host": "a", "expect_status": 404}]}}))
    sc: Scenario = load(p)
    run = ScenarioRun(sc, harness_ca, tmp_path / "w")

    def ep_file(name):
        return yaml.safe_load((run.src / file_name_for(("Endpoints", "default", name))).read_text())
    try:
        run.pool = BackendPool()
        run.pool.start([(i, None) for i in sc.endpoints])
        run.live = list(sc.endpoints)
        for o in sc.objects:
            from harness.scenario import object_key

            run.objects[object_key(o)] = o
            run._write(object_key(o), o)
        run._write_all_endpoints()
        ep = ep_file("app")
        b = run.pool.live["default/app:80"]
        assert ep["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}],
                                  "ports": [{"name": "http", "port": b.port, "protocol": "TCP"}]}]
        ep = ep_file("plain")
        assert "name" not in ep["subsets"][0]["ports"][0]
        run.set_endpoints(["default/app:8080"])
        ep = ep_file("app")
        assert [pt["name"] for s in ep["subsets"] for pt in s["ports"]] == ["alt"]
        ep = ep_file("plain")
        assert "subsets" not in ep
        assert "default/app:80" not in run.pool.live
        assert not [f for f in run.src.iterdir() if not f.name.endswith(".yaml")]
        with pytest.raises(ScenarioError):
            run.set_endpoints(["default/missing:80"])
    finally:
        run.close()


# ---------------------------------------------------------------- through a real Envoy


def _static_envoy_config(ports: dict[str, int], backend_port: int, leaf) -> dict:
    cert = {"certificate_chain": {"inline_string": leaf.cert_pem.decode()},
            "private_key": {"inline_string": leaf.key_pem.decode()}}
    route_config = {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
        {"match": {"prefix": "/ws"}, "route": {"cluster": "backend",
                                               "upgrade_configs": [{"upgrade_type": "websocket"}]}},
        {"match": {"prefix": "/retry"}, "route": {"cluster": "backend", "retry_policy": {
            "retry_on": "5xx", "num_retries": 3}}},
        {"match": {"prefix": "/"}, "route": {"cluster": "backend"}},
    ]}]}

    def hcm(prefix):
        return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network."
                     "http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": prefix, "route_config": route_config,
            "http_protocol_options": {"accept_http_10": True},
            "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}

    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1",
                                                 "port_value": ports["admin"]}}},
        "static_resources": {
            "listeners": [
                {"name": "http", "address": {"socket_address": {
                    "address": "127.0.0.1", "port_value": ports["http"]}},
                 "filter_chains": [{"filters": [hcm("http")]}]},
                {"name": "https", "address": {"socket_address": {
                    "address": "127.0.0.1", "port_value": ports["https"]}},
                 "listener_filters": [{"name": "envoy.filters.listener.tls_inspector",
                                       "typed_config": {"@type": "type.googleapis.com/envoy."
                                                        "extensions.filters.listener."
                                                        "tls_inspector.v3.TlsInspector"}}],
                 "filter_chains": [{
                     "filter_chain_match": {"server_names": ["tls.example.com"]},
                     "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
                         "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                                  "DownstreamTlsContext",
                         "common_tls_context": {
                             "tls_params": {"tls_minimum_protocol_version": "TLSv1_1",
                                            "cipher_suites": [
                                                "[ECDHE-ECDSA-AES128-GCM-SHA256|"
                                                "ECDHE-ECDSA-CHACHA20-POLY1305]",
                                                "[ECDHE-RSA-AES128-GCM-SHA256|"
                                                "ECDHE-RSA-CHACHA20-POLY1305]",
                                                "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
                                                "ECDHE-ECDSA-AES256-GCM-SHA384",
                                                "ECDHE-RSA-AES256-GCM-SHA384",
                                                "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA"]},
                             "alpn_protocols": ["h2", "http/1.1"],
                             "tls_certificates": [cert]}}},
                     "filters": [hcm("https")]}]},
            ],
            "clusters": [{"name": "backend", "type": "STATIC", "connect_timeout": "1s",
                          "load_assignment": {"cluster_name": "backend", "endpoints": [
                              {"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                                  "address": "127.0.0.1", "port_value": backend_port}}}}]}]}}],
        },
    }


@pytest.fixture(scope="module")
def static_envoy(tmp_path_factory):
    ca = HarnessCA()
    pool = BackendPool()
    (b,) = pool.start([("default/s1:80", None)])
    d: Path = tmp_path_factory.mktemp("static-envoy")
    ports = dict(zip(("admin", "http", "https"), allocate_ports(3), strict=True))
    cfg = d / "envoy.json"
    cfg.write_text(json.dumps(_static_envoy_config(ports, b.port, ca.issue("tls.example.com"))))
    proc = ManagedProcess("envoy", [envoy_binary(), "-c", str(cfg), "--disable-hot-restart",
                                    "--log-level", "warn", "--concurrency", "1"], d / "envoy.log")
    try:
        deadline = time.monotonic() + 30
        while True:
            r = req(ports["http"], path="/")
            if r.status == 200:
                break
            assert proc.alive(), proc.tail()
            assert time.monotonic() < deadline, f"{r.summary()}\n{proc.tail()}"
            time.sleep(0.05)
        yield ports, b
    finally:
        proc.stop()
        pool.close()


def test_envoy_http11_http10_and_host_header(static_envoy):
    ports, b = static_envoy
    r = req(ports["http"], path="/x", host_header="example.com:9999")
    assert r.status == 200 and r.backend == "default/s1:80"
    assert r.json()["host"] == "example.com:9999"
    r = req(ports["http"], path="/ten", http_version="1.0")
    assert r.status == 200 and r.json()["path"] == "/ten", r.summary()


def test_envoy_https_h2_and_cert(static_envoy):
    ports, _ = static_envoy
    r = req(ports["https"], host="tls.example.com", scheme="https", http_version="2",
            path="/h2?x=1")
    assert r.status == 200 and r.alpn == "h2", r.summary()
    assert r.backend == "default/s1:80" and r.json()["path"] == "/h2?x=1"
    assert r.cert_cn == "tls.example.com"
    r = req(ports["https"], host="tls.example.com", scheme="https")
    assert r.status == 200 and r.alpn is None


def test_envoy_tls11_and_sni_mismatch(static_envoy):
    ports, _ = static_envoy
    r = req(ports["https"], host="tls.example.com", scheme="https", tls_max_version="1.1")
    assert r.status == 200 and r.tls_version == "TLSv1.1", r.summary()
    r = req(ports["https"], host="nope.example.com", scheme="https")
    assert r.tls_failed, r.summary()


def test_envoy_websocket(static_envoy):
    ports, _ = static_envoy
    r = req(ports["http"], path="/ws-1", websocket=True)
    assert r.status == 101 and r.websocket_echo and r.backend == "default/s1:80", r.summary()
    r = req(ports["http"], path="/plain", websocket=True)
    assert r.status != 101, r.summary()


def test_envoy_retries_counted_by_attempt_id(static_envoy):
    ports, _ = static_envoy
    h = [(ATTEMPT_HEADER, "retry-1"), (FAIL_FIRST_HEADER, "2"), (FAIL_STATUS_HEADER, "503")]
    assert req(ports["http"], path="/retry", extra_headers=h).status == 200
    h = [(ATTEMPT_HEADER, "retry-2"), (FAIL_FIRST_HEADER, "4"), (FAIL_STATUS_HEADER, "503")]
    assert req(ports["http"], path="/retry", extra_headers=h).status == 503


# ---------------------------------------------------------------- HTTPProxy additions: loader

OK_REQUESTS = [
    {"host": "a", "headers": {"X-Tier": "gold", "Cookie": "c=1"}, "expect_status": 200},
    {"host": "a", "method": "OPTIONS", "headers": {"Origin": "https://x"}, "expect_status": 200},
    {"host": "a", "expect_body": ""},
    {"host": "a", "expect_body": "directResponse success", "expect_status": 200},
    {"host": "a", "n": 2, "expect_same_backend": True},
    {"host": "a", "n": 6, "expect_some_status": 429},
    {"host": "a", "n": 20, "headers": {"Cookie": "k=v"}, "expect_same_backend": True,
     "expect_header": {"set-cookie": None}},
    {"host": "a", "n": 10, "expect_split": {"default/s:80": 1.0}, "tolerance": 0.0},
]


@pytest.mark.parametrize("entry", OK_REQUESTS, ids=lambda e: ",".join(sorted(e)))
def test_schema_accepts_request(entry):
    check_request("t", entry, set())


BAD_REQUESTS = [
    ({"host": "a", "headers": {"Host": "b"}, "expect_status": 200}, "may not be set"),
    ({"host": "a", "headers": {"connection": "close"}, "expect_status": 200}, "may not be set"),
    ({"host": "a", "headers": {"Transfer-Encoding": "x"}, "expect_status": 200}, "may not be"),
    ({"host": "a", "headers": {"X-Harness-Delay": "1"}, "expect_status": 200}, "harness"),
    ({"host": "a", "headers": {"X-Flag": True}, "expect_status": 200}, "quoted string"),
    ({"host": "a", "headers": {"X-Num": 3}, "expect_status": 200}, "quoted string"),
    ({"host": "a", "headers": {"X-A": "a\r\nX-B: b"}, "expect_status": 200}, "CR/LF"),
    ({"host": "a", "headers": {"bad name": "v"}, "expect_status": 200}, "bad header name"),
    ({"host": "a", "headers": {}, "expect_status": 200}, "non-empty mapping"),
    ({"host": "a", "headers": ["X-A: b"], "expect_status": 200}, "non-empty mapping"),
    ({"host": "a", "method": "GET /x", "expect_status": 200}, "bad method"),
    ({"host": "a", "method": 7, "expect_status": 200}, "bad method"),
    ({"host": "a", "expect_body": 200}, "expect_body must be a string"),
    ({"host": "a", "expect_same_backend": True}, "without n"),
    ({"host": "a", "n": 1, "expect_same_backend": True}, "n >= 2"),
    ({"host": "a", "n": 5, "expect_same_backend": False}, "must be true"),
    ({"host": "a", "expect_some_status": 429}, "without n"),
    ({"host": "a", "n": 1, "expect_some_status": 429}, "n >= 2"),
    ({"host": "a", "n": 6, "expect_some_status": "429"}, "bad expect_some_status"),
    ({"host": "a", "n": 6, "expect_some_status": 429, "expect_status": 200}, "other expect"),
    ({"host": "a", "n": 6, "expect_some_status": 429, "expect_same_backend": True}, "at most"),
    ({"host": "a", "n": 6, "expect_status": 200}, "n without any"),
    ({"host": "a", "n": 0, "expect_same_backend": True}, "positive integer"),
    ({"host": "a", "n": True, "expect_same_backend": True}, "positive integer"),
    ({"host": "a", "n": 4, "expect_split": {"default/s:80": 1.5}}, "not in [0, 1]"),
    ({"host": "a", "n": 4, "expect_split": {"default/s:80": 1}, "tolerance": "x"}, "tolerance"),
    ({"host": "a", "tolerance": 0.1, "expect_status": 200}, "tolerance without"),
    ({"host": "a", "expect_status": "200"}, "bad expect_status"),
    ({"host": "a", "expect_header": {"x": "("}}, "bad regex"),
]


@pytest.mark.parametrize(("entry", "why"), BAD_REQUESTS, ids=[w for _, w in BAD_REQUESTS])
def test_schema_refuses_request(entry, why):
    with pytest.raises(ScenarioError, match=re.escape(why)):
        check_request("t", entry, set())


HP = {"kind": "HTTPProxy", "namespace": "default", "name": "p"}
OK_STATUSES = [
    {**HP, "currentStatus": "valid", "valid": True, "reason": "Valid", "no_errors": True},
    {**HP, "valid": False},
    {**HP, "currentStatus": "orphaned", "errors_contain": [{"type": "Orphaned"}]},
    {**HP, "errors_contain": [{"type": "IncludeError", "reason": "IncludeNotFound",
                               "message_contains": "include x/y not found"}]},
    {**HP, "warnings_contain": [{"type": "SpecError", "reason": "IgnoredField"}],
     "no_errors": True},
    {"kind": "IngressRoute", "namespace": "default", "name": "r", "currentStatus": "invalid",
     "description_contains": "x"},
]


@pytest.mark.parametrize("entry", OK_STATUSES, ids=lambda e: ",".join(sorted(e)))
def test_schema_accepts_status(entry):
    check_status("t", entry)


BAD_STATUSES = [
    ({"kind": "IngressRoute", "namespace": "d", "name": "r", "valid": True}, "HTTPProxy status"),
    ({"kind": "IngressRoute", "namespace": "d", "name": "r", "no_errors": True}, "HTTPProxy"),
    ({"kind": "Ingress", "namespace": "d", "name": "r", "currentStatus": "valid"}, "kind must"),
    ({**HP}, "without expectation"),
    ({**HP, "currentStatus": "Valid"}, "currentStatus must be"),
    ({**HP, "valid": "true"}, "valid must be true/false"),
    ({**HP, "reason": ""}, "reason must be"),
    ({**HP, "no_errors": False}, "no_errors must be true"),
    ({**HP, "no_errors": True, "errors_contain": [{"type": "X"}]}, "contradicts"),
    ({**HP, "errors_contain": []}, "non-empty list"),
    ({**HP, "errors_contain": {"type": "X"}}, "non-empty list"),
    ({**HP, "errors_contain": [{"reason": "X"}]}, "type required"),
    ({**HP, "warnings_contain": [{"type": "X", "msg": "y"}]}, "type required"),
    ({**HP, "errors_contain": [{"type": "X", "reason": 3}]}, "non-empty strings"),
    ({**HP, "bogus": 1}, "bad status entry"),
    ({"kind": "HTTPProxy", "name": "p", "valid": True}, "bad status entry"),
]


@pytest.mark.parametrize(("entry", "why"), BAD_STATUSES, ids=[w for _, w in BAD_STATUSES])
def test_schema_refuses_status(entry, why):
    with pytest.raises(ScenarioError, match=re.escape(why)):
        check_status("t", entry)


@pytest.mark.parametrize(("settings", "why"), [
    ({"root_namespaces": ["roots", "other"]}, None),
    ({"tls_fallback_certificate": "default/fallback-secret"}, None),
    ({"ingressroute_root_namespaces": ["roots"], "disable_permit_insecure": True,
      "tls_minimum_protocol_version": "1.2", "ingress_class_name": "linkerd"}, None),
    ({"root_namespaces": "roots"}, "list of namespace names"),
    ({"root_namespaces": []}, "list of namespace names"),
    ({"root_namespaces": ["Roots"]}, "list of namespace names"),
    ({"root_namespaces": ["a"], "ingressroute_root_namespaces": ["a"]}, "exclusive"),
    ({"tls_fallback_certificate": "fallback-secret"}, "namespace/name"),
    ({"tls_fallback_certificate": "a/b/c"}, "namespace/name"),
    ({"tls_fallback_certificate": {"name": "x", "namespace": "y"}}, "namespace/name"),
    ({"tls_minimum_protocol_version": 1.2}, "quoted version"),
    ({"disable_permit_insecure": "yes"}, "true/false"),
    ({"ingress_class_name": ""}, "non-empty string"),
    ({"fallback": "x"}, "unknown controller settings"),
    (["root_namespaces"], "must be a mapping"),
])
def test_schema_controller(settings, why):
    _accepted_or_refused(check_controller, settings, why)


def _accepted_or_refused(check, entry, why):
    """`check` accepts `entry` (why is None) or refuses it saying `why`."""
    if why is None:
        check("t", entry)
    else:
        with pytest.raises(ScenarioError, match=re.escape(why)):
            check("t", entry)


@pytest.mark.parametrize(("entry", "why"), [
    ({"backend": "default/m:80", "path": "/", "from_client": True, "within": "30s"}, None),
    ({"backend": "default/m:80", "from_client": False}, None),
    ({"backend": "default/m:80", "from_client": "yes"}, "from_client must be"),
    ({"backend": "default/m:80", "client": True}, "bad entry"),
    ({"path": "/"}, "backend required"),
])
def test_schema_observed(entry, why):
    _accepted_or_refused(check_observed, entry, why)


def test_load_refuses_controller_and_requires_forms(tmp_path):
    p = tmp_path / "200-x.yaml"
    for doc, why in [
        ({"controller": {"root_namespaces": "roots"}}, "list of namespace names"),
        ({"requires": "websocket"}, "requires must be a list"),
        ({"expect": {"status": [{**HP, "valid": 1}]}}, "valid must be true/false"),
        ({"steps": [{"status": [{**HP, "no_errors": False}]}]}, "no_errors must be true"),
        ({"steps": [{"requests": [{"host": "a", "n": 3, "expect_body": "x"}]}]}, "n without"),
    ]:
        p.write_text(yaml.safe_dump({"name": "x", "objects": "", "expect": {}, **doc}))
        with pytest.raises(ScenarioError, match=re.escape(why)):
            load(p)


def test_scenario_folders_and_ids(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTOUR_SCENARIOS_DIR", raising=False)
    assert [d.name for d in scenarios_dirs()] == ["scenarios", "scenarios-httpproxy"]
    assert scenarios_dir().name == "scenarios"
    monkeypatch.setenv("CONTOUR_SCENARIOS_DIR", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert scenarios_dirs() == [tmp_path / "a", tmp_path / "b"]
    assert scenarios_dir() == tmp_path / "a"
    assert scenario_id(Path("/x/scenarios-httpproxy/200-hp.yaml")) == \
        "scenarios-httpproxy/200-hp.yaml"


# ---------------------------------------------------------------- HTTPProxy additions: verdicts


def _resp(status=200, backend="default/a:80", body=None, headers=()):
    hdrs = [("x-backend", backend)] if backend else []
    return client.Response(scheme="http", http_version="1.1", status=status,
                           headers=hdrs + list(headers),
                           body=body if body is not None else b"{}")


@pytest.mark.parametrize(("want", "body", "holds"), [
    ("directResponse success", b"directResponse success", True),
    ("", b"", True),
    ("", b"x", False),
    ("not found", b"not found\n", False),
])
def test_expect_body(want, body, holds):
    m = check_response({"host": "a", "expect_body": want}, _resp(body=body))
    assert (m == []) is holds, m


@pytest.mark.parametrize(("spec", "responses", "holds"), [
    ({"n": 3, "expect_same_backend": True}, [_resp(), _resp(), _resp()], True),
    ({"n": 3, "expect_same_backend": True},
     [_resp(), _resp(backend="default/b:80"), _resp()], False),
    ({"n": 3, "expect_same_backend": True}, [_resp(), _resp(status=503), _resp()], False),
    ({"n": 3, "expect_same_backend": True}, [_resp(), _resp()], False),  # stopped short
    ({"n": 2, "expect_same_backend": True, "expect_header": {"x-y": "^1$"}},
     [_resp(headers=[("x-y", "1")]), _resp(headers=[("x-y", "1")])], True),
    ({"n": 2, "expect_same_backend": True, "expect_header": {"x-y": "^1$"}},
     [_resp(headers=[("x-y", "1")]), _resp()], False),
    ({"n": 3, "expect_some_status": 429}, [_resp(), _resp(429, None), _resp()], True),
    ({"n": 3, "expect_some_status": 429}, [_resp(), _resp(), _resp(503, None)], False),
    ({"n": 4, "expect_split": {"default/a:80": 0.5, "default/b:80": 0.5}, "tolerance": 0.0},
     [_resp(), _resp(backend="default/b:80")] * 2, True),
    ({"n": 4, "expect_split": {"default/a:80": 0.5, "default/b:80": 0.5}, "tolerance": 0.1},
     [_resp()] * 4, False),
    ({"n": 2, "expect_split": {"default/a:80": 1.0}}, [_resp(), _resp(backend="x/y:1")], False),
])
def test_check_repeated(spec, responses, holds):
    seen, m = check_repeated({"host": "h", **spec}, responses)
    assert (m == []) is holds, (seen, m)


def test_repeated_problem_stops_early_except_for_some_status():
    same = {"host": "h", "n": 5, "expect_same_backend": True}
    assert repeated_problem(same, _resp(), "default/a:80") is None
    assert "default/a:80" in str(repeated_problem(same, _resp(backend="default/b:80"),
                                                  "default/a:80"))
    assert repeated_problem(same, _resp(status=404), None) is not None
    some = {"host": "h", "n": 5, "expect_some_status": 429}
    assert repeated_problem(some, _resp(status=200), None) is None


ROW = {"kind": "HTTPProxy", "namespace": "default", "name": "child",
       "currentStatus": "invalid", "description": "At least one error present, see Errors "
       "for details", "conditions": [
           {"type": "Ready", "status": "True"},
           {"type": "Valid", "status": "False", "reason": "ErrorPresent",
            "message": "At least one error present, see Errors for details",
            "observedGeneration": 2,
            "errors": [{"type": "IncludeError", "status": "True",
                        "reason": "IncludeCreatesCycle",
                        "message": "include creates an include cycle: default/parent -> "
                                   "default/child -> default/child"}],
            "warnings": [{"type": "SpecError", "status": "True", "reason": "IgnoredField",
                          "message": "ignored"}]}]}
VALID_ROW = {"kind": "HTTPProxy", "namespace": "default", "name": "p",
             "currentStatus": "valid", "description": "Valid HTTPProxy",
             "conditions": [{"type": "Valid", "status": "True", "reason": "Valid",
                             "message": "Valid HTTPProxy"}]}


@pytest.mark.parametrize(("spec", "row", "holds"), [
    ({"currentStatus": "invalid"}, ROW, True),
    ({"currentStatus": "valid"}, ROW, False),
    ({"description_contains": "At least one error"}, ROW, True),
    ({"description_contains": "Valid HTTPProxy"}, ROW, False),
    ({"valid": False}, ROW, True),
    ({"valid": True}, ROW, False),
    ({"valid": True}, VALID_ROW, True),
    ({"valid": False}, VALID_ROW, False),
    ({"reason": "ErrorPresent"}, ROW, True),
    ({"reason": "Valid"}, ROW, False),
    ({"no_errors": True}, VALID_ROW, True),
    ({"no_errors": True}, {**VALID_ROW, "conditions": [
        {**VALID_ROW["conditions"][0], "errors": []}]}, True),
    ({"no_errors": True}, ROW, False),
    ({"errors_contain": [{"type": "IncludeError"}]}, ROW, True),
    ({"errors_contain": [{"type": "IncludeError", "reason": "IncludeCreatesCycle",
                          "message_contains": "default/parent -> default/child -> "
                                              "default/child"}]}, ROW, True),
    ({"errors_contain": [{"type": "IncludeError", "reason": "IncludeNotFound"}]}, ROW, False),
    ({"errors_contain": [{"type": "IncludeError", "message_contains": "nope"}]}, ROW, False),
    ({"errors_contain": [{"type": "ServiceError"}]}, ROW, False),
    ({"errors_contain": [{"type": "IncludeError"}, {"type": "TLSError"}]}, ROW, False),
    ({"errors_contain": [{"type": "SpecError"}]}, ROW, False),  # a warning is no error
    ({"errors_contain": [{"type": "IncludeError"}]}, VALID_ROW, False),
    ({"warnings_contain": [{"type": "SpecError", "reason": "IgnoredField"}]}, ROW, True),
    ({"warnings_contain": [{"type": "SpecError", "reason": "Other"}]}, ROW, False),
    ({"warnings_contain": [{"type": "IncludeError"}]}, ROW, False),
    ({"valid": True}, {**VALID_ROW, "conditions": None}, False),
    ({"valid": True}, {k: v for k, v in VALID_ROW.items() if k != "conditions"}, False),
    ({"reason": "Valid"}, {**VALID_ROW, "conditions": [{"type": "Ready", "status": "True",
                                                        "reason": "Valid"}]}, False),
])
def test_check_status_row(spec, row, holds):
    m = check_status_row({**HP, **spec}, row)
    assert (m == []) is holds, m


def _observed(headers, path="/m"):
    return ObservedRequest(0.0, "GET", path, "www.example.com", "HTTP/1.1", headers)


@pytest.mark.parametrize(("spec", "req_headers", "holds"), [
    ({"backend": "d/m:80", "path": "/m"}, {}, True),
    ({"backend": "d/m:80", "path": "/m"}, {ATTEMPT_HEADER: "x"}, False),
    ({"backend": "d/m:80", "path": "/m", "from_client": True}, {ATTEMPT_HEADER: "x"}, True),
    ({"backend": "d/m:80", "path": "/m", "from_client": True}, {}, False),
    ({"backend": "d/m:80", "path": "/other", "from_client": True}, {ATTEMPT_HEADER: "x"}, False),
    ({"backend": "d/m:80", "host": "www.example.com"}, {}, True),
    ({"backend": "d/m:80", "host": "other"}, {}, False),
])
def test_observed_matches(spec, req_headers, holds):
    assert observed_matches(spec, _observed(req_headers)) is holds
    _, m = verdict_check_observed(spec, [_observed({}, "/filler"), _observed(req_headers)])
    assert (m == []) is holds, m


# ---------------------------------------------------------------- HTTPProxy additions: runner


def test_controller_settings_to_flags_and_config(monkeypatch):
    monkeypatch.delenv(ROUTE_LAYOUT_ENV, raising=False)
    ports = Ports(*range(1, 8))
    argv = serve_argv(Path("/src"), ports, {"root_namespaces": ["roots", "b"]}, None)
    assert argv[argv.index("--root-namespaces") + 1] == "roots,b"
    assert "--ingressroute-root-namespaces" not in argv
    argv = serve_argv(Path("/src"), ports, {"ingressroute_root_namespaces": ["r"]}, None)
    assert argv[argv.index("--ingressroute-root-namespaces") + 1] == "r"
    assert "--root-namespaces" not in argv
    assert config_document({}) is None
    assert config_document({"tls_fallback_certificate": "default/fallback-secret",
                            "tls_minimum_protocol_version": "1.2"}) == {"tls": {
        "minimum-protocol-version": "1.2",
        "fallback-certificate": {"name": "fallback-secret", "namespace": "default"}}}


def test_the_route_layout_of_the_whole_suite(monkeypatch) -> None:
    monkeypatch.setenv(ROUTE_LAYOUT_ENV, "scoped")
    assert config_document({}) == {"route-layout": "scoped"}
    assert config_document({"config_file": {"route-layout": "single"}}) == {
        "route-layout": "single"}  # a test's own choice wins


def _run_for(tmp_path, harness_ca, statuses=()):
    """A ScenarioRun whose HTTP port is a backend's (no Envoy), with a fake controller;
    run.close() stops the backend."""
    p = tmp_path / "200-x.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "objects": "", "expect": {}}))
    run = ScenarioRun(load(p), harness_ca, tmp_path / "w")
    run.pool = BackendPool()
    (a,) = run.pool.start([("default/a:80", None)])
    run.ports = Ports(xds=0, http=a.port, https=0, stats=0, debug=0, metrics=0, admin=0)

    class FakeController:
        def debug_status(self):
            return list(statuses), None

    run.controller = FakeController()  # type: ignore[assignment]
    return run, a


def test_runner_sends_headers_and_repeats(tmp_path, harness_ca):
    run, a = _run_for(tmp_path, harness_ca)
    try:
        spec = {"host": "h", "method": "OPTIONS",
                "headers": {"Origin": "https://a.example.com", "X-Tier": "gold"},
                "expect_backend": "default/a:80",
                "expect_header_seen_by_backend": {"origin": r"^https://a\.example\.com$",
                                                  "x-tier": "^gold$"}}
        seen, m = run._attempt_request(spec)
        assert m == [], seen
        assert a.observed()[-1].method == "OPTIONS"
        names = list(a.observed()[-1].headers)
        assert names.index(ATTEMPT_HEADER) < names.index("origin")  # the runner's first
        n0 = len(a.observed())
        assert run._attempt_request({"host": "h", "n": 4, "expect_same_backend": True})[1] == []
        assert len(a.observed()) == n0 + 4
        assert len({o.headers[ATTEMPT_HEADER] for o in a.observed()[n0:]}) == 4
        assert run._attempt_request({"host": "h", "n": 3, "expect_some_status": 200})[1] == []
        assert run._attempt_request({"host": "h", "n": 3, "expect_some_status": 429})[1]
        n1 = len(a.observed())
        _, m = run._attempt_request({"host": "h", "n": 5, "expect_split": {"default/b:80": 1}})
        assert m and len(a.observed()) == n1 + 1  # stopped at the first wrong backend
    finally:
        run.close()


def test_runner_status_and_observation(tmp_path, harness_ca):
    run, a = _run_for(tmp_path, harness_ca, statuses=[ROW])
    try:
        ok = {**HP, "name": "child", "valid": False, "reason": "ErrorPresent",
              "errors_contain": [{"type": "IncludeError", "reason": "IncludeCreatesCycle"}]}
        seen, m = run._attempt_status(ok)
        assert m == [] and "IncludeCreatesCycle" in seen
        assert run._attempt_status({**ok, "valid": True})[1]
        assert run._attempt_status({**ok, "name": "other"})[1] == ["missing status entry"]
        req(a.port, path="/copy", extra_headers=[(ATTEMPT_HEADER, "c1")])
        own = {"backend": "default/a:80", "path": "/copy"}
        assert run._attempt_observed(own)[1]
        assert run._attempt_observed({**own, "from_client": True})[1] == []
        req(a.port, path="/copy")
        assert run._attempt_observed(own)[1] == []
    finally:
        run.close()


@pytest.mark.parametrize(("kind", "obj", "row"), [
    ("HTTPProxy", {"metadata": {"namespace": "d", "name": "p"}, "status": {
        "currentStatus": "valid", "description": "Valid HTTPProxy",
        "conditions": [{"type": "Valid", "status": "True"}]}},
     {"kind": "HTTPProxy", "namespace": "d", "name": "p", "currentStatus": "valid",
      "description": "Valid HTTPProxy", "conditions": [{"type": "Valid", "status": "True"}]}),
    ("IngressRoute", {"metadata": {"namespace": "d", "name": "r"}, "status": {
        "currentStatus": "invalid", "description": "x"}},
     {"kind": "IngressRoute", "namespace": "d", "name": "r", "currentStatus": "invalid",
      "description": "x"}),
    ("HTTPProxy", {"metadata": {"namespace": "d", "name": "p"}}, None),
    ("HTTPProxy", {"metadata": {"namespace": "d", "name": "p"}, "status": {}}, None),
])
def test_cluster_status_rows(kind, obj, row):
    assert status_row(kind, obj) == row


def test_cluster_sink_removes_the_group_it_put():
    """TLSCertificateDelegation exists in two groups: remove() deletes the one put."""
    calls = []

    class FakeApi:
        def apply(self, obj):
            calls.append(("apply", obj["apiVersion"], obj["metadata"]["labels"]))

        def delete(self, kind, ns, name, api_version=""):
            calls.append(("delete", kind, ns, name, api_version))

    sink = ClusterSink(FakeApi(), Path("/kubeconfig"), "127.0.0.1")  # type: ignore[arg-type]
    key = ("TLSCertificateDelegation", "default", "d")
    sink.put(key, {"apiVersion": "projectcontour.io/v1", "kind": key[0],
                   "metadata": {"name": "d", "namespace": "default"}})
    sink.remove(key)
    assert calls == [("apply", "projectcontour.io/v1", {OWNED_LABEL: "true"}),
                     ("delete", *key, "projectcontour.io/v1")]
    assert ("TLSCertificateDelegation", "projectcontour.io/v1") in WATCHED_KINDS
    assert ("HTTPProxy", "projectcontour.io/v1") in WATCHED_KINDS


def test_failure_report_lines():
    held = Check("expect.requests[0]", "request", {"host": "a"}, held=True, attempts=1)
    failed = Check("expect.status[0]", "status", {"kind": "HTTPProxy"}, attempts=3,
                   last_seen="currentStatus='invalid'", last_mismatch=["valid: no"])
    never = Check("expect.requests[1]", "request", {"host": "b"}, negative=True)
    lines = check_lines([held, failed, never])
    assert lines[0].startswith("  [ok]     expect.requests[0]")
    assert "[FAILED] expect.status[0] (status, positive, 3 attempts)" in lines[1]
    assert lines[2:4] == ["      last attempt saw: currentStatus='invalid'",
                          "      mismatch: valid: no"]
    assert "[NOT CHECKED] expect.requests[1] (request, negative, 0 attempts)" in lines[4]


@pytest.mark.parametrize(("spec", "holds"), [
    ({"currentStatus": "invalid"}, True),
    ({"currentStatus": "invalid", "valid": False, "reason": "ErrorPresent"}, True),
    ({"currentStatus": "valid"}, False),
    ({"currentStatus": "invalid", "no_errors": True}, False),
])
def test_refused_object_reads_as_the_boundary_verdict(spec, holds):
    """Cluster mode: an HTTPProxy the API server refuses reads as `invalid` with the
    refusal as a SpecError, as the folder source's boundary reports it."""
    row = refused_row(("HTTPProxy", "default", "p"), "spec.virtualhost.fqdn: Required value")
    entry = {"kind": "HTTPProxy", "namespace": "default", "name": "p", **spec}
    assert (check_status_row(entry, row) == []) is holds
