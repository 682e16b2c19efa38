"""The conformance echo backend (image/echo-conformance) speaks the Gateway API suite's echo
protocol: its servers run here on loopback ports and are asked over real sockets, by real
clients (http.client, an `h2` client, ssl, grpcio), what the suite asks. Its GrpcEcho
description matches the grpcecho.proto of the pinned suite module. Fast: no node."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from echo_basic import dns, grpc_echo, serve, tcp_echo, tlsinfo, ws
from echo_basic.answers import Echo, canonical_name, parse_duration

REPO = Path(__file__).resolve().parents[2]
CONTEXT = {"namespace": "gateway-conformance-infra", "ingress": "", "service": "",
           "pod": "infra-backend-v1-abc"}


@pytest.fixture
def http_port() -> Iterator[int]:
    server = serve.EchoServer(0, Echo(CONTEXT, "3000"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _get(port: int, path: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def test_echo_describes_the_request_and_the_pod(http_port: int) -> None:
    status, headers, body = _get(http_port, "/a/b?x=1", "POST", b"payload", {
        "Host": "example.com", "x-custom-header": "one", "X-Echo-Set-Header": "X-Foo: bar"})
    doc = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert headers["X-Foo"] == "bar"  # asked for by X-Echo-Set-Header
    assert (doc["path"], doc["host"], doc["method"], doc["proto"]) == (
        "/a/b?x=1", "example.com", "POST", "HTTP/1.1")
    assert doc["headers"]["X-Custom-Header"] == ["one"]  # Go's canonical name, a list
    assert "Host" not in doc["headers"] and "tls" not in doc
    assert (doc["namespace"], doc["pod"], doc["httpPort"]) == (
        CONTEXT["namespace"], CONTEXT["pod"], "3000")


def _mirror_log(path: str) -> re.Pattern[str]:
    """The suite's GetMirrorLogRegexp (conformance/utils/http/mirror.go, v1.6.3)."""
    return re.compile(f"Echoing back request made to {re.escape(path)} to client")


def test_each_echo_is_logged_as_the_suites_mirror_tests_read_it(
        http_port: int, capfd: pytest.CaptureFixture[str]) -> None:
    """HTTP/1.1 and h2c alike: the line with the request-target (query included) and the
    client's address; /health is not an echo and is not logged."""
    server = serve.EchoServer(0, Echo(CONTEXT, "3000"), h2c=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _get(http_port, "/mirror?gateway-api-conformance-request-id=1")[0] == 200
        assert _get(http_port, "/health")[0] == 200
        assert _h2_get(server.server_address[1], "/h2mirror?id=2", "a")[0][":status"] == "200"
    finally:
        server.shutdown()
    out = capfd.readouterr().out
    assert _mirror_log("/mirror?gateway-api-conformance-request-id=1").search(out), out
    assert re.search(r"made to /mirror\S* to client \(127\.0\.0\.1:\d+\)", out), out
    assert _mirror_log("/h2mirror?id=2").search(out), out
    assert "/health" not in out


def test_status_health_and_retry_routes(http_port: int) -> None:
    assert _get(http_port, "/status/503")[0] == 503
    assert _get(http_port, "/health")[2] == b"OK"
    retry = "/retry/?uuid=u1&succeedAfter=2&responseCode=502"
    assert [_get(http_port, retry)[0] for _ in range(3)] == [502, 502, 200]
    bad = _get(http_port, "/?delay=soon")
    assert bad[0] == 500 and json.loads(bad[2])["message"] == 'time: invalid duration "soon"'


def test_retry_without_response_code_resets_the_connection(http_port: int) -> None:
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        _get(http_port, "/retry/?uuid=u2&succeedAfter=1")
    assert _get(http_port, "/retry/?uuid=u2&succeedAfter=1")[0] == 200


def test_websocket_echoes_frames(http_port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", http_port), timeout=5)
    f = sock.makefile("rwb")
    f.write(b"GET /ws HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nOrigin: http://ws.example.com\r\n\r\n")
    f.flush()
    head = b"".join(iter(f.readline, b"\r\n"))
    assert head.startswith(b"HTTP/1.1 101") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    mask = b"\x01\x02\x03\x04"
    for opcode, payload in ((0x1, b"hello"), (ws.PING, b"p")):
        f.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask
                + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        f.flush()
    assert ws.read_frame(f) == (0x1, b"hello")
    assert ws.read_frame(f) == (ws.PONG, b"p")
    sock.close()
    assert _get(http_port, "/ws")[0] == 400  # no upgrade asked


def _h2_get(port: int, path: str, authority: str) -> tuple[dict[str, str], bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(header_encoding="utf-8"))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":path", path), (":scheme", "http"),
                          (":authority", authority), ("x-h2", "yes")], end_stream=True)
    sock.sendall(conn.data_to_send())
    head: dict[str, str] = {}
    body = b""
    while True:
        data = sock.recv(65536)
        assert data, "connection closed before the stream ended"
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                head = dict(event.headers)  # type: ignore[arg-type]
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
            elif isinstance(event, h2.events.StreamEnded):
                sock.close()
                return head, body
        sock.sendall(conn.data_to_send())


def test_h2c_port_answers_prior_knowledge_http2_and_refuses_plain_http1() -> None:
    server = serve.EchoServer(0, Echo(CONTEXT, "3000"), h2c=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        head, body = _h2_get(port, "/h2?q", "h2c.example.com")
        doc = json.loads(body)
        assert head[":status"] == "200"
        assert (doc["proto"], doc["path"], doc["host"]) == ("HTTP/2.0", "/h2?q",
                                                            "h2c.example.com")
        assert doc["headers"]["X-H2"] == ["yes"]
        assert _get(port, "/")[0:3:2] == (400, b"Expected h2c request")
        assert _get(port, "/", headers={"Upgrade": "h2c", "Connection": "Upgrade"})[0] == 200
    finally:
        server.shutdown()


def test_https_reports_sni_alpn_and_the_client_certificate(pki: dict[str, Path]) -> None:
    ctx = tlsinfo.server_context(str(pki["server.crt"]), str(pki["server.key"]),
                                 str(pki["ca.crt"]), alpn=("h2", "http/1.1"))
    server = serve.EchoServer(0, Echo(CONTEXT, "3000"), tls=ctx)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = ssl.create_default_context(cafile=str(pki["ca.crt"]))
        client.load_cert_chain(str(pki["client.crt"]), str(pki["client.key"]))
        client.set_alpn_protocols(["http/1.1"])
        raw = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5)
        with client.wrap_socket(raw, server_hostname="abc.example.com") as sock:
            sock.sendall(b"GET /tls HTTP/1.1\r\nHost: abc.example.com\r\n"
                         b"Connection: close\r\n\r\n")
            reply = b"".join(iter(lambda: sock.recv(65536), b""))
        doc = json.loads(reply.partition(b"\r\n\r\n")[2])
    finally:
        server.shutdown()
    tls = doc["tls"]
    assert tls["serverName"] == "abc.example.com" and tls["negotiatedProtocol"] == "http/1.1"
    assert tls["version"] in ("TLSv1.2", "TLSv1.3") and tls["cipherSuite"].startswith("TLS_")
    assert tls["peerCertificates"] == [pki["client.crt"].read_text()]


def _grpc_call(port: int, method: str, metadata: tuple[tuple[str, str], ...]) -> Any:
    classes = grpc_echo.message_classes()
    with grpc.insecure_channel(f"127.0.0.1:{port}",
                               options=[("grpc.default_authority", "grpc.example.com")]) as ch:
        call = ch.unary_unary(f"/{grpc_echo.SERVICE}/{method}",
                              request_serializer=classes["EchoRequest"].SerializeToString,
                              response_deserializer=classes["EchoResponse"].FromString)
        return call(classes["EchoRequest"](), metadata=metadata, timeout=5)


def test_grpc_echo_replies_with_method_metadata_authority_and_pod() -> None:
    ((server, port),) = grpc_echo.serve({"HTTP_PORT": "0"}, CONTEXT)
    try:
        reply = _grpc_call(port, "EchoTwo", (("x-custom", "value"),))
        with pytest.raises(grpc.RpcError) as failed:
            _grpc_call(port, "EchoThree", ())
    finally:
        server.stop(0)
    a = reply.assertions
    assert a.fully_qualified_method == f"/{grpc_echo.SERVICE}/EchoTwo"
    assert ("x-custom", "value") in [(h.key, h.value) for h in a.headers]
    assert a.authority == "grpc.example.com"
    assert (a.context.namespace, a.context.pod) == (CONTEXT["namespace"], CONTEXT["pod"])
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


def _proto_shape(text: str) -> tuple[dict[str, list[tuple[str, int, str, bool]]], list[str]]:
    """Messages (fields: name, number, type, repeated) and service methods of a .proto."""
    text = re.sub(r"//[^\n]*", "", text)
    messages = {}
    for name, body in re.findall(r"message\s+(\w+)\s*\{([^}]*)\}", text):
        messages[name] = [(f, int(n), t, bool(r)) for r, t, f, n in re.findall(
            r"(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+)\s*;", body)]
    return messages, re.findall(r"rpc\s+(\w+)\s*\(\s*EchoRequest\s*\)\s*returns", text)


def test_the_grpc_description_matches_the_suites_proto() -> None:
    module = subprocess.run(["bash", str(REPO / "scripts/gateway-conformance-build.sh"),
                             "--module-dir"], capture_output=True, text=True, timeout=300,
                            check=True).stdout.strip()
    text = (Path(module) / "echo-basic" / "grpcecho.proto").read_text()
    assert "package gateway_api_conformance.echo_basic.grpcecho;" in text
    messages, methods = _proto_shape(text)
    ours = {name: [(f, n, t if isinstance(t, str) else "string", r) for f, n, t, r in fields]
            for name, fields in grpc_echo.MESSAGES.items()}
    assert ours == messages
    assert list(grpc_echo.METHODS) == methods


def _tcp_session(port: int, wrap: ssl.SSLContext | None = None) -> tuple[bytes, list[bytes]]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if wrap is not None:
        sock = wrap.wrap_socket(sock, server_hostname="abc.example.com")
    f = sock.makefile("rwb")
    welcome = f.readline()
    f.write(b"PING\nIS_TLS\nTEST\n")
    f.flush()
    lines = [f.readline() for _ in range(3)]
    sock.close()
    return welcome, lines


def test_tcp_echo_plain_and_tls(pki: dict[str, Path]) -> None:
    env = {"TCP_PORT": "0", "TLS_PORT": "0", "TLS_SERVER_CERT": str(pki["server.crt"]),
           "TLS_SERVER_PRIV_KEY": str(pki["server.key"])}
    plain, secure = tcp_echo.serve(env, CONTEXT)
    try:
        welcome, (pong, is_tls, test) = _tcp_session(plain.server_address[1])
        client = ssl.create_default_context(cafile=str(pki["ca.crt"]))
        _, (_, tls_is_tls, tls_test) = _tcp_session(secure.server_address[1], client)
    finally:
        plain.shutdown()
        secure.shutdown()
    assert (welcome, pong, is_tls) == (tcp_echo.WELCOME, b"PONG\n", b"false\n")
    doc = json.loads(test)
    assert (doc["pod"], doc["namespace"], doc["isTLS"]) == (CONTEXT["pod"],
                                                            CONTEXT["namespace"], False)
    tls_doc = json.loads(tls_test)
    assert tls_is_tls == b"true\n" and tls_doc["tls"]["serverName"] == "abc.example.com"
    assert tls_doc["tls"]["version"].startswith("TLS 1.")


def _dns_query(name: str, ident: int = 0x1234) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return ident.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + qname + \
        b"\x00\x01\x00\x01"


def test_dns_stand_in_answers_the_whoami_zone_and_refuses_the_rest() -> None:
    corefile = ".:53 {\n    forward . 8.8.8.8\n    log\n}\nfoo.bar.com:53 {\n  whoami\n}\n"
    zones = dns.whoami_zones(corefile)
    assert zones == ["foo.bar.com"]
    ok = dns.reply(_dns_query("foo.bar.com"), "10.1.2.3", zones)
    assert ok[:2] == b"\x12\x34" and ok[3] & 0x0F == 0 and ok[6:8] == b"\x00\x01"
    assert ok.endswith(socket.inet_aton("10.1.2.3"))
    refused = dns.reply(_dns_query("example.org"), "10.1.2.3", zones)
    assert refused[3] & 0x0F == 5 and refused[6:8] == b"\x00\x00"


def test_go_names_and_durations() -> None:
    assert canonical_name("x-custom-HEADER") == "X-Custom-Header"
    assert canonical_name("bad header") == "bad header"
    assert parse_duration("1m30.5s") == pytest.approx(90.5)
    assert parse_duration("250ms") == pytest.approx(0.25)
    for bad in ("", "5", "1x", "s"):
        with pytest.raises(ValueError):
            parse_duration(bad)
