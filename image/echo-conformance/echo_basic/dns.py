"""A stand-in for the suite's coredns pod (its manifests run `-conf /root/Corefile` on UDP
53): enough DNS for its UDPRoute tests' `whoami` zone. A query for a name in a zone the
Corefile serves with `whoami` is answered with an A record holding the client's address;
anything else is REFUSED (the node has no upstream resolver to forward to)."""

from __future__ import annotations

import re
import socket
import struct

ZONE = re.compile(r"^\s*([A-Za-z0-9.-]+?)\.?:\d+\s*\{([^}]*)\}", re.M)
A, IN = 1, 1


def whoami_zones(corefile: str) -> list[str]:
    """The zones whose server block holds `whoami`, lower case, without the trailing dot."""
    return sorted(m.group(1).lower() for m in ZONE.finditer(corefile)
                  if re.search(r"^\s*whoami\s*$", m.group(2), re.M))


def question(packet: bytes) -> tuple[str, int, int, int]:
    """(name, qtype, qclass, end offset) of the first question; ValueError if malformed."""
    labels, pos = [], 12
    while True:
        if pos >= len(packet):
            raise ValueError("truncated question")
        size = packet[pos]
        if size == 0:
            break
        labels.append(packet[pos + 1:pos + 1 + size].decode("ascii", "replace"))
        pos += 1 + size
    qtype, qclass = struct.unpack("!HH", packet[pos + 1:pos + 5])
    return ".".join(labels).lower(), qtype, qclass, pos + 5


def reply(packet: bytes, client_ip: str, zones: list[str]) -> bytes:
    """The response to one query packet."""
    ident, flags = struct.unpack("!HH", packet[:4])
    name, qtype, qclass, end = question(packet)
    ours = any(name == z or name.endswith("." + z) for z in zones)
    answer = b""
    if ours and qtype == A and qclass == IN:
        answer = struct.pack("!HHHIH", 0xC00C, A, IN, 0, 4) + socket.inet_aton(client_ip)
    rcode = 0 if ours else 5
    head = struct.pack("!HHHHHH", ident, 0x8000 | (flags & 0x0100) | 0x0080 | 0x0400 * ours
                       | rcode, 1, 1 if answer else 0, 0, 0)
    return head + packet[12:end] + answer


def serve(corefile_path: str, port: int = 53) -> None:
    """Answer queries on UDP `port` forever."""
    with open(corefile_path) as f:
        zones = whoami_zones(f.read())
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    while True:
        packet, (ip, client_port) = sock.recvfrom(4096)
        try:
            sock.sendto(reply(packet, ip, zones), (ip, client_port))
        except (ValueError, struct.error):
            continue  # not a query we can parse: no answer
