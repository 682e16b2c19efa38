"""The echo's HTTP servers, one thread per connection: plain HTTP/1.1 (HTTP_PORT), h2c
(H2C_PORT: HTTP/2 with prior knowledge, or an HTTP/1.1 request carrying `Upgrade: h2c`;
anything else is a 400, as the suite's server answers) and HTTPS (HTTPS_PORT, ALPN h2 and
http/1.1, optional client certificates). Requests become `answers.Request`s; HTTP/2 is in
h2serve.py. TERM stops the process (main.py)."""

from __future__ import annotations

import socket
import ssl
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import h2serve, tlsinfo, ws
from .answers import Answer, Echo, Request, peer

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class EchoServer(ThreadingHTTPServer):
    """A listener for `echo`; `h2c` accepts prior-knowledge HTTP/2, `tls` wraps each
    connection (the handshake runs in the connection's thread, never in accept)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, echo: Echo, h2c: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.echo, self.h2c, self.tls = echo, h2c, tls
        super().__init__(("0.0.0.0", port), Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away or failed its handshake is not the server's problem


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def handle(self) -> None:
        """HTTP/2 when ALPN chose it or (h2c) the client opened with the preface."""
        sock = self.request
        if isinstance(sock, ssl.SSLSocket):
            if sock.selected_alpn_protocol() == "h2":
                h2serve.serve(sock, self.rfile, self.server.echo, tlsinfo.assertions(sock))
                return
        elif self.server.h2c and _starts_with_preface(sock):
            h2serve.serve(sock, self.rfile, self.server.echo, None)
            return
        super().handle()

    def __getattr__(self, name: str) -> object:
        if name.startswith("do_"):  # every method, known or not, is answered the same way
            return self.answer
        raise AttributeError(name)

    def answer(self) -> None:
        _read_body(self)
        if self.path.split("?")[0] == "/ws" and not self.server.h2c:
            self.websocket()
            return
        if self.server.h2c and self.headers.get("Upgrade", "").lower() != "h2c":
            self.write(Answer(400, [("Content-Type", "text/plain; charset=utf-8")],
                              b"Expected h2c request"))
            return
        request = Request(
            method=self.command, target=self.path, host=self.headers.get("Host", ""),
            proto=self.request_version,
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
            tls=tlsinfo.assertions(self.request) if isinstance(self.request, ssl.SSLSocket)
            else None, client=peer(self.client_address))
        self.write(self.server.echo.answer(request))

    def websocket(self) -> None:
        """Upgrade and echo frames; a request that asks no upgrade is a 400."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self.write(Answer(400, [("Content-Type", "text/plain; charset=utf-8")],
                              b"Bad Request"))
            return
        self.send_response_only(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws.accept_key(key))
        self.end_headers()
        self.wfile.flush()
        ws.echo(self.rfile, self.wfile)
        self.close_connection = True

    def write(self, answer: Answer) -> None:
        if answer.reset:  # SO_LINGER 0: close() sends a RST, as the suite's server does
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response_only(answer.status)
        self.send_header("Date", self.date_time_string())
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # quiet: the suite sends thousands of requests


def _starts_with_preface(sock: socket.socket) -> bool:
    """Peek (without consuming) until the bytes seen either differ from the HTTP/2 preface
    or hold all of it."""
    seen = b""
    for _ in range(50):
        seen = sock.recv(len(PREFACE), socket.MSG_PEEK)
        if not seen or not PREFACE.startswith(seen) or len(seen) == len(PREFACE):
            break
        time.sleep(0.02)  # a partial preface: wait for the rest of it
    return seen == PREFACE


def _read_body(handler: BaseHTTPRequestHandler) -> None:
    """Consume the request body (Content-Length or chunked) so keep-alive stays in step."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return
            handler.rfile.read(size + 2)
    length = int(handler.headers.get("Content-Length") or 0)
    if length:
        handler.rfile.read(length)
