"""Cheap tests of the scenario harness's own parts (no controller needed).

The last group runs a real Envoy from a *static* configuration (written here,
not by the controller) to prove the client/backends speak correctly through
Envoy: HTTP/2 via ALPN, TLS 1.1 with Envoy's CBC suites, WebSocket echo,
HTTP/1.0, SNI filter-chain mismatch, upstream retries counted per attempt id.
"""

from __future__ import annotations

import base64
import json
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
)
from harness.certs import HarnessCA, cert_cn, server_context
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
