"""Local HTTP/1.1 (+ WebSocket, + optional TLS) backends with an identity.

Every backend listens on 127.0.0.1 on its own kernel-assigned port and knows
its identity ``ns/svc:port`` (the *Service* port).  It answers every request
with status 200, the header ``x-backend: <identity>`` and a JSON body::

    {"backend": ..., "method": ..., "path": ..., "host": ..., "version": ...,
     "headers": {lower-case name: value, ...}}

Harness control (capability ``backend_control``), driven by request headers
the runner sets (Envoy forwards them unchanged, also across its own retries):

* ``x-harness-delay: <seconds>``      wait before answering
* ``x-harness-fail-first: <N>``       answer the first N requests carrying the
* ``x-harness-fail-status: <code>``   same ``x-harness-attempt-id`` with <code>
* path ``/__status/NNN``              answer status NNN

A test may also set a fault on a backend itself (``Backend.fault_status``: answer every
request with that status; ``Backend.fault_delay``: wait that many seconds first), so that
traffic it does not send itself (a rollout's) sees errors or latency.

Every request (also Envoy's own health checks) is logged (capability
``backend_observation``).  A request with ``Upgrade: websocket`` gets a
RFC 6455 ``101`` and every data frame is echoed back (capability ``websocket``).
With a TLS leaf the backend terminates TLS itself for any SNI or none
(capability ``tls_backend``).

All backends of one scenario share one asyncio loop on a daemon thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .certs import Leaf, server_context
from .netns import NetworkError, backend_network

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ATTEMPT_HEADER = "x-harness-attempt-id"
DELAY_HEADER = "x-harness-delay"
FAIL_FIRST_HEADER = "x-harness-fail-first"
FAIL_STATUS_HEADER = "x-harness-fail-status"
IDENTITY_HEADER = "x-backend"

_STATUS_PATH = re.compile(r"^/__status/(\d{3})(?:[/?].*)?$")
_REASONS = {
    200: "OK", 101: "Switching Protocols", 400: "Bad Request", 404: "Not Found",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


@dataclass
class ObservedRequest:
    t: float
    method: str
    path: str
    host: str | None
    version: str
    headers: dict[str, str]


@dataclass
class Backend:
    identity: str  # ns/svc:port
    ip: str = "127.0.0.1"
    port: int = 0
    tls: Leaf | None = None
    log: list[ObservedRequest] = field(default_factory=list)
    fail_counts: dict[str, int] = field(default_factory=dict)
    fault_status: int = 0  # answer every request with this status (0: no fault)
    fault_delay: float = 0.0  # seconds to wait before every answer
    running: bool = False
    _server: asyncio.base_events.Server | None = None
    _transports: set[Any] = field(default_factory=set)

    @property
    def namespace(self) -> str:
        return self.identity.split("/", 1)[0]

    @property
    def service(self) -> str:
        return self.identity.split("/", 1)[1].rsplit(":", 1)[0]

    @property
    def service_port(self) -> int:
        return int(self.identity.rsplit(":", 1)[1])

    def observed(self) -> list[ObservedRequest]:
        return list(self.log)

    def describe(self) -> str:
        tls = f" tls(cn={self.tls.cn})" if self.tls else ""
        state = "up" if self.running else "stopped"
        return f"{self.identity} -> {self.ip}:{self.port}{tls} [{state}, {len(self.log)} requests]"

    # ------------------------------------------------------------------ server
    async def _start(self) -> None:
        ctx: ssl.SSLContext | None = server_context(self.tls) if self.tls else None
        self._server = await asyncio.start_server(
            self._handle, host=self.ip, port=0, ssl=ctx, backlog=512, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.running = True

    async def _stop(self) -> None:
        self.running = False
        if self._server is not None:
            self._server.close()
        for tr in list(self._transports):
            with contextlib.suppress(Exception):
                tr.abort()
        self._transports.clear()
        if self._server is not None:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tr = writer.transport
        self._transports.add(tr)
        try:
            while True:
                keep = await self._one_request(reader, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError,
                asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._transports.discard(tr)
            with contextlib.suppress(Exception):
                writer.close()

    async def _one_request(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            await self._send(writer, 400, {"error": "bad request line"}, close=True)
            return False
        method, path, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            k = name.strip().lower()
            v = value.strip()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        # request body (only drained; the harness sends none)
        if "content-length" in headers:
            n = int(headers["content-length"] or 0)
            if n:
                await reader.readexactly(n)
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until empty line
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                await reader.readexactly(size + 2)
        self.log.append(ObservedRequest(time.monotonic(), method, path, headers.get("host"),
                                        version, dict(headers)))

        conn_tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        close = "keep-alive" not in conn_tokens if version == "HTTP/1.0" else "close" in conn_tokens

        info: dict[str, Any] = {
            "backend": self.identity,
            "method": method,
            "path": path,
            "host": headers.get("host"),
            "version": version,
            "headers": headers,
        }

        delay = headers.get(DELAY_HEADER)
        if delay:
            await asyncio.sleep(float(delay))
        if self.fault_delay:
            await asyncio.sleep(self.fault_delay)
        if self.fault_status:
            await self._send(writer, self.fault_status, info, close=close)
            return not close

        attempt = headers.get(ATTEMPT_HEADER)
        fail_first = int(headers.get(FAIL_FIRST_HEADER, "0") or 0)
        if attempt and fail_first > 0:
            n = self.fail_counts.get(attempt, 0) + 1
            self.fail_counts[attempt] = n
            if n <= fail_first:
                status = int(headers.get(FAIL_STATUS_HEADER, "503") or 503)
                info["failed_attempt"] = n
                await self._send(writer, status, info, close=close)
                return not close

        m = _STATUS_PATH.match(path)
        if m:
            await self._send(writer, int(m.group(1)), info, close=close)
            return not close

        if "websocket" in headers.get("upgrade", "").lower() and "upgrade" in conn_tokens:
            await self._websocket(reader, writer, headers)
            return False

        await self._send(writer, 200, info, close=close)
        return not close

    async def _send(self, writer: asyncio.StreamWriter, status: int, info: dict[str, Any],
                    close: bool) -> None:
        body = json.dumps(info, sort_keys=True).encode()
        reason = _REASONS.get(status, "Status")
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            f"{IDENTITY_HEADER}: {self.identity}\r\n"
            + ("connection: close\r\n" if close else "")
            + "\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()

    async def _websocket(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         headers: dict[str, str]) -> None:
        key = headers.get("sec-websocket-key", "")
        head = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "upgrade: websocket\r\n"
            "connection: Upgrade\r\n"
            f"sec-websocket-accept: {ws_accept(key)}\r\n"
            f"{IDENTITY_HEADER}: {self.identity}\r\n"
            "\r\n"
        )
        writer.write(head.encode("latin-1"))
        await writer.drain()
        while True:
            try:
                opcode, payload = await read_ws_frame(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if opcode == 0x8:  # close
                writer.write(encode_ws_frame(0x8, payload[:2], mask=False))
                await writer.drain()
                return
            if opcode == 0x9:  # ping
                writer.write(encode_ws_frame(0xA, payload, mask=False))
            elif opcode in (0x1, 0x2):
                writer.write(encode_ws_frame(opcode, payload, mask=False))
            await writer.drain()


async def read_ws_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    opcode = b0 & 0x0F
    masked = bool(b1 & 0x80)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if masked else b""
    data = await reader.readexactly(n)
    if masked:
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
    return opcode, data


def encode_ws_frame(opcode: int, payload: bytes, mask: bool,
                    mask_key: bytes = b"\x1f\x2e\x3d\x4c") -> bytes:
    out = bytearray([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        out.append(mbit | n)
    elif n < 65536:
        out.append(mbit | 126)
        out += n.to_bytes(2, "big")
    else:
        out.append(mbit | 127)
        out += n.to_bytes(8, "big")
    if mask:
        out += mask_key
        out += bytes(c ^ mask_key[i % 4] for i, c in enumerate(payload))
    else:
        out += payload
    return bytes(out)


class BackendPool:
    """All backends of one scenario, served from one event loop thread."""

    def __init__(self, ip: str = "127.0.0.1") -> None:
        # cluster mode: the test host's address (netns.py), since the API server refuses
        # Endpoints in 127/8; the loop thread then lives in that network namespace
        self.ip = ip
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, ctx: None)  # TLS/conn noise
        self._thread = threading.Thread(target=self._run, name="e2e-backends", daemon=True)
        self._thread.start()
        self.all: list[Backend] = []  # every backend ever started (history for observation)
        self.live: dict[str, Backend] = {}  # identity -> running backend

    def _run(self) -> None:
        if not self.ip.startswith("127."):
            network = backend_network()
            if self.ip != network.backend_ip:
                raise NetworkError(f"backends may listen on loopback or on the test host "
                                   f"{network.backend_ip}, not {self.ip}")
            network.enter_in_this_thread()  # before any listening socket exists
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self, specs: Iterable[tuple[str, Leaf | None]]) -> list[Backend]:
        """Start backends concurrently; specs are (identity, tls leaf or None)."""
        new = [Backend(identity=i, ip=self.ip, tls=leaf) for i, leaf in specs]
        for b in new:
            if b.identity in self.live:
                raise ValueError(f"backend {b.identity} already running")

        async def go() -> None:
            await asyncio.gather(*(b._start() for b in new))

        if new:
            self._call(go())
        for b in new:
            self.live[b.identity] = b
            self.all.append(b)
        return new

    def stop(self, identities: Iterable[str]) -> None:
        bs = [self.live.pop(i) for i in list(identities) if i in self.live]

        async def go() -> None:
            await asyncio.gather(*(b._stop() for b in bs))

        if bs:
            self._call(go())

    def history(self, identity: str) -> list[Backend]:
        return [b for b in self.all if b.identity == identity]

    def close(self) -> None:
        try:
            self.stop(list(self.live))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()
