"""Gateway API through a real Envoy: a GatewayClass, a Gateway with an HTTP and an HTTPS
listener, and HTTPRoutes read from a folder by `contour serve`; requests go through Envoy
to echo backends of the test's own (they answer with what they received) and prove
matching (segment-wise prefixes, exact, headers, query, method), filters (header
modifiers, redirect, rewrite, mirror), weighted backends, TLS termination, and a GRPCRoute
to a gRPC backend over h2c, a TLSRoute passed through to a TLS backend."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness.certs import HarnessCA
from harness.controller import Controller, Ports
from harness.envoy import Envoy

HOST = "gw.example.com"
GRPC_HOST = "grpc.example.com"
TLS_HOST = "tls.example.com"
BROKEN_TLS_HOST = "broken-tls.example.com"
BACKENDS = ("blue", "green", "mirror")


class Echo:
    """An HTTP backend answering 200 with JSON of the request it got; remembers paths."""

    def __init__(self, name: str) -> None:
        seen: list[str] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.append(self.path)
                body = json.dumps({"backend": name, "path": self.path, "method": self.command,
                                   "headers": {k.lower(): ",".join(self.headers.get_all(k) or ())
                                               for k in self.headers}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class GrpcEcho:
    """A gRPC backend (h2c) of the test's own: unary `/echo.Echo/Say` answers
    `<name>:<request bytes>`; any other method is UNIMPLEMENTED."""

    def __init__(self, name: str) -> None:
        import grpc

        def say(request: bytes, context: Any) -> bytes:
            return f"{name}:".encode() + request

        handler = grpc.method_handlers_generic_handler("echo.Echo", {
            "Say": grpc.unary_unary_rpc_method_handler(say)})
        self.server = grpc.server(ThreadPoolExecutor(2), handlers=[handler])
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


class TlsEcho:
    """A TLS backend with its own certificate (for TLS_HOST): answers `passthrough` to any
    HTTP/1.1 request, so a client seeing its certificate knows Envoy did not terminate."""

    def __init__(self, leaf: Any, workdir: Path) -> None:
        (workdir / "tls.crt").write_bytes(leaf.cert_pem)
        (workdir / "tls.key").write_bytes(leaf.key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(workdir / "tls.crt", workdir / "tls.key")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Length", "11")
                self.end_headers()
                self.wfile.write(b"passthrough")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _tls_objects(port: int) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tls", "namespace": "apps"},
         "spec": {"ports": [{"name": "tls", "port": 443}]}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "tls", "namespace": "apps"},
         "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                      "ports": [{"name": "tls", "port": port}]}]},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "TLSRoute",
         "metadata": {"name": "tls", "namespace": "apps"},
         "spec": {"parentRefs": [{"name": "gw", "namespace": "infra", "sectionName": "tls"}],
                  "hostnames": [TLS_HOST],
                  "rules": [{"backendRefs": [{"name": "tls", "port": 443}]}]}},
        # its only backend does not exist: its connections must be closed, not answered by
        # the catch-all Gateway's certificate (`_catch_all_gateway`)
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "TLSRoute",
         "metadata": {"name": "tls-broken", "namespace": "infra"},
         "spec": {"parentRefs": [{"name": "catch-all", "namespace": "infra"}],
                  "hostnames": [BROKEN_TLS_HOST],
                  "rules": [{"backendRefs": [{"name": "nonexistent", "port": 443}]}]}},
    ]


def _catch_all_gateway() -> dict[str, Any]:
    """A second Gateway: an HTTPS listener without hostname (its certificate answers any
    SNI no other chain names) and a TLS passthrough listener for BROKEN_TLS_HOST."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "catch-all", "namespace": "infra"},
            "spec": {"gatewayClassName": "contour", "listeners": [
                {"name": "https", "protocol": "HTTPS", "port": 443,
                 "tls": {"certificateRefs": [{"name": "cert"}]}},
                {"name": "tls", "protocol": "TLS", "port": 443, "hostname": BROKEN_TLS_HOST,
                 "tls": {"mode": "Passthrough"}}]}}


def _grpc_objects(port: int) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "grpc", "namespace": "apps"},
         "spec": {"ports": [{"name": "grpc", "port": 9000}]}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "grpc", "namespace": "apps"},
         "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                      "ports": [{"name": "grpc", "port": port}]}]},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
         "metadata": {"name": "grpc", "namespace": "apps"},
         "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                  "hostnames": [GRPC_HOST],
                  "rules": [{"matches": [{"method": {"service": "echo.Echo", "method": "Say"}}],
                             "backendRefs": [{"name": "grpc", "port": 9000}]}]}},
    ]


def _objects(echoes: dict[str, Echo], leaf: Any) -> list[dict[str, Any]]:
    gw = "gateway.networking.k8s.io/v1"
    out: list[dict[str, Any]] = [
        {"apiVersion": gw, "kind": "GatewayClass", "metadata": {"name": "contour"},
         "spec": {"controllerName": "projectcontour.io/gateway-controller"}},
        {"apiVersion": gw, "kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"},
         "spec": {"gatewayClassName": "contour", "listeners": [
             {"name": "http", "protocol": "HTTP", "port": 80,
              "allowedRoutes": {"namespaces": {"from": "All"}}},
             {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": HOST,
              "tls": {"certificateRefs": [{"name": "cert"}]},
              "allowedRoutes": {"namespaces": {"from": "All"}}},
             {"name": "tls", "protocol": "TLS", "port": 443, "hostname": TLS_HOST,
              "tls": {"mode": "Passthrough"}, "allowedRoutes": {"namespaces": {"from": "All"}}},
         ]}},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
         "metadata": {"name": "cert", "namespace": "infra"},
         "data": {"tls.crt": base64.b64encode(leaf.cert_pem).decode(),
                  "tls.key": base64.b64encode(leaf.key_pem).decode()}},
    ]
    for name, echo in echoes.items():
        out += [{"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": name, "namespace": "apps"},
                 "spec": {"ports": [{"name": "http", "port": 80}]}},
                {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": name, "namespace": "apps"},
                 "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                              "ports": [{"name": "http", "port": echo.port}]}]}]
    return out + [_route(), _catch_all_gateway()]


def _rule(path: str, *backends: str, kind: str = "PathPrefix", **extra: Any) -> dict[str, Any]:
    return {"matches": [{"path": {"type": kind, "value": path}, **extra.pop("match", {})}],
            "backendRefs": [{"name": b, "port": 80} for b in backends], **extra}


def _route() -> dict[str, Any]:
    rules = [
        _rule("/app", "blue"),
        _rule("/app/exact", "green", kind="Exact"),
        _rule("/", "green", match={"headers": [{"name": "x-pick", "value": "green"}]}),
        _rule("/q", "green", match={"queryParams": [{"name": "color", "value": "green"}]}),
        _rule("/q", "blue"),
        _rule("/post", "green", match={"method": "POST"}),
        _rule("/weights", "blue", "green"),
        _rule("/hdr", "blue", filters=[
            {"type": "RequestHeaderModifier", "requestHeaderModifier": {
                "set": [{"name": "x-set", "value": "s"}], "add": [{"name": "x-add", "value": "a"}],
                "remove": ["x-rm"]}},
            {"type": "ResponseHeaderModifier", "responseHeaderModifier": {
                "set": [{"name": "x-resp", "value": "r"}]}}]),
        {"matches": [{"path": {"type": "PathPrefix", "value": "/redirect"}}], "filters": [
            {"type": "RequestRedirect", "requestRedirect": {
                "scheme": "https", "hostname": "other.example.com", "statusCode": 301}}]},
        _rule("/rewrite", "blue", filters=[{"type": "URLRewrite", "urlRewrite": {
            "hostname": "rewritten.example.com",
            "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/new"}}}]),
        _rule("/mirror", "blue", filters=[{"type": "RequestMirror", "requestMirror": {
            "backendRef": {"name": "mirror", "port": 80}}}]),
        _rule("/missing", "nope"),
    ]
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "app", "namespace": "apps"},
            "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                     "hostnames": [HOST], "rules": [r for r in rules]}}


def request(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None,
            ) -> tuple[int, dict[str, str], dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers={"Host": HOST, **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        data = json.loads(body) if resp.getheader("content-type") == "application/json" else {}
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def wait_for_route(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request(port, "/app")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the HTTPRoute never answered through Envoy")


def serve_folder(workdir: Path, source: Path, ports: Ports, name: str,
                 *args: str) -> tuple[Controller, Envoy]:
    """`contour serve --source-dir SOURCE ARGS...` and an Envoy bootstrapped to it."""
    ctl = Controller(workdir, source, ports, {}, source_args=["--source-dir", str(source),
                                                              *args])
    boot = workdir / "envoy.json"
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ports.xds), "--admin-port", str(ports.admin)], check=True)
    return ctl, Envoy(workdir, boot, name, ports.admin)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("gateway")
    source = workdir / "source"
    source.mkdir()
    ca = HarnessCA()
    echoes = {name: Echo(name) for name in BACKENDS}
    grpc_echo = GrpcEcho("grpc")
    tls_echo = TlsEcho(ca.issue(TLS_HOST), workdir)
    objects = (_objects(echoes, ca.issue(HOST)) + _grpc_objects(grpc_echo.port)
               + _tls_objects(tls_echo.port))
    (source / "objects.yaml").write_text(yaml.safe_dump_all(objects))
    ports = Ports.allocate()
    ctl, envoy = serve_folder(workdir, source, ports, "gateway")
    try:
        ctl.wait_healthy()
        wait_for_route(ports.http)
        yield ports, echoes, ca, ctl
    finally:
        envoy.stop()
        ctl.stop()
        for e in echoes.values():
            e.server.shutdown()
        grpc_echo.server.stop(None)
        tls_echo.server.shutdown()


@pytest.mark.parametrize("path, method, headers, want", [
    ("/app", "GET", {}, (200, "blue", "/app")),
    ("/app/x", "GET", {}, (200, "blue", "/app/x")),
    ("/appx", "GET", {}, (404, None, None)),  # PathPrefix matches whole segments
    ("/app/exact", "GET", {}, (200, "green", "/app/exact")),
    ("/other", "GET", {"x-pick": "green"}, (200, "green", "/other")),
    ("/other", "GET", {}, (404, None, None)),
    ("/q?color=green", "GET", {}, (200, "green", "/q?color=green")),
    ("/q?color=red", "GET", {}, (200, "blue", "/q?color=red")),
    ("/post", "POST", {}, (200, "green", "/post")),
    ("/post", "GET", {}, (404, None, None)),
    ("/missing", "GET", {}, (500, None, None)),  # no such Service: 500, as the spec says
], ids=["prefix", "prefix-segment", "not-a-segment", "exact", "header", "header-missing",
        "query", "query-other", "method", "method-other", "backend-not-found"])
def test_matching(served: Any, path: str, method: str, headers: dict[str, str],
                  want: tuple[int, str | None, str | None]) -> None:
    ports = served[0]
    status, _, body = request(ports.http, path, method, headers)
    assert (status, body.get("backend"), body.get("path")) == want


def test_header_modifiers(served: Any) -> None:
    status, headers, body = request(served[0].http, "/hdr", headers={
        "x-add": "mine", "x-rm": "gone", "x-set": "old"})
    assert status == 200
    assert body["headers"]["x-set"] == "s"
    assert body["headers"]["x-add"] == "mine,a"  # appended (a second header line)
    assert "x-rm" not in body["headers"]
    assert headers["x-resp"] == "r"


def test_request_redirect(served: Any) -> None:
    status, headers, _ = request(served[0].http, "/redirect/x")
    assert status == 301
    assert headers["location"] == "https://other.example.com/redirect/x"


def test_url_rewrite(served: Any) -> None:
    status, _, body = request(served[0].http, "/rewrite/a")
    assert (status, body["path"], body["headers"]["host"]) == (200, "/new/a",
                                                                "rewritten.example.com")


def test_request_mirror(served: Any) -> None:
    ports, echoes = served[0], served[1]
    status, _, body = request(ports.http, "/mirror/one")
    assert (status, body["backend"]) == (200, "blue")
    deadline = time.monotonic() + 10
    while "/mirror/one" not in echoes["mirror"].seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/mirror/one" in echoes["mirror"].seen


def test_weighted_backends_share_requests(served: Any) -> None:
    seen = Counter(request(served[0].http, "/weights")[2]["backend"] for _ in range(60))
    assert set(seen) == {"blue", "green"}, seen


def tls_get(port: int, ca: HarnessCA, host: str, path: str) -> tuple[str, bytes]:
    """GET over TLS with SNI `host` (verified against the harness CA): the certificate's
    CN and the raw response."""
    ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as tls:
        cn = dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    return cn, data


def test_https_listener_terminates_tls_with_the_certificate_ref(served: Any) -> None:
    cn, data = tls_get(served[0].https, served[2], HOST, "/app")
    assert cn == HOST and data.startswith(b"HTTP/1.1 200")
    assert b'"backend": "blue"' in data


def test_tls_listener_passes_tls_through_to_the_tlsroute_backend(served: Any) -> None:
    cn, data = tls_get(served[0].https, served[2], TLS_HOST, "/")
    assert cn == TLS_HOST  # the backend's own certificate: Envoy did not terminate
    assert data.startswith(b"HTTP/1.0 200") and data.endswith(b"passthrough")


def test_a_tlsroute_without_backends_closes_the_connection(served: Any) -> None:
    """Envoy closes at once (EOF in the handshake) for the broken TLSRoute's SNI, though the
    catch-all Gateway's certificate would answer it; another SNI gets that certificate."""
    ctx = ssl.create_default_context(cadata=served[2].cert_pem.decode())
    with socket.create_connection(("127.0.0.1", served[0].https), timeout=5) as raw, \
            pytest.raises((ssl.SSLEOFError, ConnectionResetError)):
        ctx.wrap_socket(raw, server_hostname=BROKEN_TLS_HOST)
    with socket.create_connection(("127.0.0.1", served[0].https), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):  # the catch-all answers: HOST's cert
        ctx.wrap_socket(raw, server_hostname="other.example.com")


def test_debug_status_rows_for_the_gateway_api(served: Any) -> None:
    rows, err = served[3].debug_status()
    assert err is None and rows is not None
    by_kind = {(r["kind"], r["name"]): r for r in rows if "status" in r}
    gw = by_kind[("Gateway", "gw")]["status"]
    # http: the HTTPRoute and the GRPCRoute; https (gw.example.com only): the HTTPRoute;
    # tls: the TLSRoute
    assert [ls["attachedRoutes"] for ls in gw["listeners"]] == [2, 1, 1]
    (parent,) = by_kind[("HTTPRoute", "app")]["status"]["parents"]
    conditions = {c["type"]: c["reason"] for c in parent["conditions"]}
    assert conditions == {"Accepted": "Accepted", "ResolvedRefs": "BackendNotFound"}


def test_grpcroute_through_envoy(served: Any) -> None:
    import grpc

    ports = served[0]
    with grpc.insecure_channel(f"127.0.0.1:{ports.http}",
                               options=[("grpc.default_authority", GRPC_HOST)]) as channel:
        say = channel.unary_unary("/echo.Echo/Say")
        deadline = time.monotonic() + 30
        while True:  # the GRPCRoute is in the first snapshot, but be generous with Envoy
            try:
                assert say(b"hello", timeout=5) == b"grpc:hello"
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary("/echo.Echo/Other")(b"x", timeout=5)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED  # no route: Envoy's 404


def test_routes_are_programmed_in_envoy(served: Any) -> None:
    """/debug/programmed reads the routes' provenance: the HTTPRoute, GRPCRoute and TLSRoute are
    served by the connected Envoy."""
    from harness.controller import http_get

    ctl = served[3]
    status, body = http_get(ctl.ports.debug, "/debug/programmed", timeout=3)
    assert status == 200
    rows = {(r["kind"], r["namespace"], r["name"]): r for r in json.loads(body)}
    for key in (("HTTPRoute", "apps", "app"), ("GRPCRoute", "apps", "grpc"),
                ("TLSRoute", "apps", "tls")):
        assert rows[key]["programmed"] is True, rows[key]
