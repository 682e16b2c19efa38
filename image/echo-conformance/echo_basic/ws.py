"""WebSocket echo on `/ws` (HTTP/1.1 Upgrade, RFC 6455), as the suite's server mounts it:
every data frame's payload comes back in a frame of the same kind; a ping gets its pong;
a close frame is answered with one and ends the connection."""

from __future__ import annotations

import base64
import hashlib
import io
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSE, PING, PONG = 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def read_frame(rfile: io.BufferedIOBase) -> tuple[int, bytes] | None:
    """(opcode, unmasked payload) of the next frame; None at the end of the stream."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", rfile.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = rfile.read(size)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked (server-to-client) frame."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def echo(rfile: io.BufferedIOBase, wfile: io.BufferedIOBase) -> None:
    """Echo frames until the client closes."""
    while (got := read_frame(rfile)) is not None:
        opcode, payload = got
        if opcode == CLOSE:
            wfile.write(frame(CLOSE, payload[:2]))
            return
        wfile.write(frame(PONG, payload) if opcode == PING else frame(opcode or 0x1, payload))
        wfile.flush()
