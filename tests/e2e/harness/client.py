"""The scenario client: raw sockets + ssl (+ h2 for HTTP/2).

Every request uses a new connection.  The client controls the Host header,
SNI, the offered TLS versions, the HTTP version (1.0, 1.1, 2 via ALPN), sends
paths byte-for-byte when asked (``raw_path``), performs RFC 6455 WebSocket
handshakes plus an echo round trip, never verifies the server certificate
but records the leaf certificate's CN, and measures the elapsed time.

TLS 1.1: OpenSSL 3 refuses TLS < 1.2 at its default security level 1, so a
context that may offer TLS 1.0/1.1 uses ``DEFAULT:@SECLEVEL=0`` (this also
re-enables the SHA-1 CBC suites TLS 1.1 needs).  Verified against a local
TLS 1.1-only server in tests/e2e/test_harness.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import ssl
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from typing import Any

from .backends import IDENTITY_HEADER, encode_ws_frame, ws_accept
from .certs import cert_cn

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


class TLSHandshakeFailed(Exception):
    pass


@dataclass
class Response:
    scheme: str
    http_version: str
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    tls_failed: bool = False  # the TLS handshake did not complete
    tls_version: str | None = None
    alpn: str | None = None
    cert_cn: str | None = None
    websocket_echo: bool | None = None  # None: not a websocket request

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def json(self) -> dict[str, Any] | None:
        try:
            d = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None
        return d if isinstance(d, dict) else None

    @property
    def backend(self) -> str | None:
        h = self.header(IDENTITY_HEADER)
        if h:
            return h
        d = self.json()
        return d.get("backend") if d else None

    def summary(self, body_limit: int = 300) -> str:
        parts = []
        if self.error:
            parts.append(f"error={self.error!r}")
        if self.tls_failed:
            parts.append("tls_handshake=FAILED")
        parts.append(f"status={self.status}")
        if self.backend:
            parts.append(f"backend={self.backend}")
        if self.tls_version:
            parts.append(f"tls={self.tls_version} alpn={self.alpn} cert_cn={self.cert_cn!r}")
        if self.websocket_echo is not None:
            parts.append(f"websocket_echo={self.websocket_echo}")
        parts.append(f"elapsed={self.elapsed:.3f}s")
        hdrs = ", ".join(f"{k}: {v}" for k, v in self.headers if k != "date")
        if hdrs:
            parts.append(f"headers={{{hdrs}}}")
        d = self.json()
        if d is not None and "backend" in d:
            parts.append(f"backend_saw(path={d.get('path')!r}, headers={d.get('headers')})")
        elif self.body:
            b = self.body[:body_limit]
            parts.append(f"body={b!r}{'...' if len(self.body) > body_limit else ''}")
        return " ".join(parts)


@dataclass
class RequestOptions:
    host: str
    path: str = "/"
    scheme: str = "http"
    method: str = "GET"
    host_header: str | None = None
    http_version: str = "1.1"
    raw_path: bool = False
    tls_min_version: str | None = None
    tls_max_version: str | None = None
    websocket: bool = False
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    timeout: float = 10.0


def client_tls_context(min_version: str | None, max_version: str | None,
                       alpn: list[str] | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lo = TLS_VERSIONS[min_version] if min_version else None
    hi = TLS_VERSIONS[max_version] if max_version else None
    if lo is None:
        lo = ssl.TLSVersion.TLSv1_2
        if hi is not None and hi < lo:
            lo = hi
    if hi is None:
        hi = ssl.TLSVersion.TLSv1_3
    if lo < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLSv1/TLSv1_1 are deprecated enum members
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = lo
        ctx.maximum_version = hi
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def _quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/?&=%:@!$'()*+,;~-._[]")


def request(port: int, opts: RequestOptions) -> Response:
    """Perform one request on a new connection to 127.0.0.1:port."""
    resp = Response(scheme=opts.scheme, http_version=opts.http_version)
    t0 = time.monotonic()
    sock: socket.socket | None = None
    try:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=opts.timeout)
        except OSError as e:
            resp.error = f"connect 127.0.0.1:{port}: {e.__class__.__name__}: {e}"
            if opts.scheme == "https":
                resp.tls_failed = True  # refused: no TLS handshake possible
            return resp
        sock = raw
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts.scheme == "https":
            alpn = ["h2"] if opts.http_version == "2" else None
            ctx = client_tls_context(opts.tls_min_version, opts.tls_max_version, alpn)
            try:
                tls = ctx.wrap_socket(raw, server_hostname=opts.host or None)
            except (ssl.SSLError, OSError) as e:
                resp.tls_failed = True
                resp.error = f"TLS handshake: {e.__class__.__name__}: {e}"
                return resp
            sock = tls
            resp.tls_version = tls.version()
            resp.alpn = tls.selected_alpn_protocol()
            der = tls.getpeercert(binary_form=True)
            if der:
                try:
                    resp.cert_cn = cert_cn(der)
                except Exception as e:  # pragma: no cover - broken cert
                    resp.cert_cn = f"<unparsable certificate: {e}>"
        elif opts.http_version == "2":
            resp.error = "http_version 2 is only supported with scheme https (ALPN)"
            return resp
        if opts.http_version == "2":
            if resp.alpn != "h2":
                resp.error = f"ALPN did not negotiate h2 (got {resp.alpn!r})"
                return resp
            _h2_exchange(sock, opts, resp)
        else:
            _h1_exchange(sock, opts, resp)
    except (OSError, ssl.SSLError, ValueError) as e:
        if resp.error is None:
            resp.error = f"{e.__class__.__name__}: {e}"
    finally:
        resp.elapsed = time.monotonic() - t0
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
    return resp


# ---------------------------------------------------------------- HTTP/1.x


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            if not self._fill():
                raise ConnectionError(
                    f"connection closed before {sep!r} "
                    f"(got {len(self.buf)} bytes: {self.buf[:200]!r})")
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError(f"connection closed after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self) -> bytes:
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out


def _h1_exchange(sock: socket.socket, opts: RequestOptions, resp: Response) -> None:
    path = opts.path if opts.raw_path else _quote_path(opts.path)
    version = "HTTP/1.0" if opts.http_version == "1.0" else "HTTP/1.1"
    host_header = opts.host_header or opts.host
    lines = [f"Host: {host_header}"]
    ws_key = None
    if opts.websocket:
        ws_key = base64.b64encode(os.urandom(16)).decode()
        lines += [
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {ws_key}",
            "Sec-WebSocket-Version: 13",
        ]
    elif version == "HTTP/1.1":
        lines.append("Connection: close")
    lines += [f"{k}: {v}" for k, v in opts.extra_headers]
    # raw_path: the path goes out byte-for-byte (UTF-8), nothing is quoted or normalised
    first = opts.method.encode() + b" " + path.encode("utf-8", "surrogateescape") + b" " \
        + version.encode() + b"\r\n"
    data = first + ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    sock.sendall(data)

    r = _Reader(sock)
    while True:
        head = r.until(b"\r\n\r\n").decode("latin-1")
        status_line, *hlines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"bad status line {status_line!r}")
        status = int(parts[1])
        headers = []
        for h in hlines:
            if h:
                k, _, v = h.partition(":")
                headers.append((k.strip().lower(), v.strip()))
        if 100 <= status < 200 and status != 101:
            continue  # 100-continue and friends
        break
    resp.status = status
    resp.headers = headers

    if status == 101:
        if opts.websocket:
            _ws_echo(sock, r, resp, ws_key or "")
        return
    if opts.websocket:
        resp.websocket_echo = False
    if opts.method == "HEAD" or status in (204, 304):
        return
    te = resp.header("transfer-encoding")
    cl = resp.header("content-length")
    if te and "chunked" in te.lower():
        body = b""
        while True:
            size = int(r.until(b"\r\n").split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while r.until(b"\r\n") != b"\r\n":
                    pass
                break
            body += r.exactly(size)
            r.exactly(2)
        resp.body = body
    elif cl is not None:
        resp.body = r.exactly(int(cl))
    else:
        resp.body = r.rest()


def _ws_echo(sock: socket.socket, r: _Reader, resp: Response, key: str) -> None:
    resp.websocket_echo = False
    accept = resp.header("sec-websocket-accept")
    if accept != ws_accept(key):
        resp.error = f"bad Sec-WebSocket-Accept {accept!r} (expected {ws_accept(key)!r})"
        return
    msg = f"harness-echo-{os.urandom(6).hex()}".encode()
    sock.sendall(encode_ws_frame(0x1, msg, mask=True, mask_key=os.urandom(4)))
    b0, b1 = r.exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(r.exactly(2), "big")
    elif n == 127:
        n = int.from_bytes(r.exactly(8), "big")
    mask = r.exactly(4) if b1 & 0x80 else b""
    payload = r.exactly(n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    if (b0 & 0x0F) == 0x1 and payload == msg:
        resp.websocket_echo = True
    else:
        resp.error = f"websocket echo mismatch: opcode={b0 & 0x0F} payload={payload!r} sent={msg!r}"
    with contextlib.suppress(OSError):
        sock.sendall(encode_ws_frame(0x8, b"\x03\xe8", mask=True))


# ---------------------------------------------------------------- HTTP/2


def _h2_exchange(sock: socket.socket, opts: RequestOptions, resp: Response) -> None:
    import h2.config
    import h2.connection
    import h2.events

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    headers = [
        (":method", opts.method),
        (":scheme", "https"),
        (":authority", opts.host_header or opts.host),
        (":path", opts.path if opts.raw_path else _quote_path(opts.path)),
    ] + [(k.lower(), v) for k, v in opts.extra_headers]
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, headers, end_stream=True)
    sock.sendall(conn.data_to_send())
    body = b""
    done = False
    while not done:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("h2: connection closed before the response ended")
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                for raw_k, raw_v in ev.headers:
                    k = raw_k.decode() if isinstance(raw_k, bytes) else str(raw_k)
                    v = raw_v.decode() if isinstance(raw_v, bytes) else str(raw_v)
                    if k == ":status":
                        resp.status = int(v)
                    else:
                        resp.headers.append((k, v))
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                done = True
            elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                raise ConnectionError(f"h2: stream reset (error code {ev.error_code})")
            elif isinstance(ev, h2.events.ConnectionTerminated) and not done:
                raise ConnectionError(f"h2: GOAWAY (error code {ev.error_code})")
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    resp.body = body
    try:
        conn.close_connection()
        sock.sendall(conn.data_to_send())
    except Exception:
        pass
