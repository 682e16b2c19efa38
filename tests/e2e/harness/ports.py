"""Free TCP port allocation for the controller and Envoy.

Backends bind port 0 themselves (no race).  Ports that must be handed to
another process (xDS, listeners, admin, stats, debug, metrics) are taken from
a range *below* the kernel's ephemeral range, so that they cannot collide
with ports the kernel hands out for port-0 binds or outgoing connections in
between allocation and use.  Every allocated port is remembered for the
session and never handed out twice.
"""

from __future__ import annotations

import os
import random
import socket
import threading

_lock = threading.Lock()
_used: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _candidate_range() -> tuple[int, int]:
    lo, hi = _ephemeral_range()
    if lo > 12000:
        return 10000, lo - 1
    return hi + 1, 65535


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # No SO_REUSEADDR: a port in TIME_WAIT is not considered free.
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def allocate_ports(n: int) -> list[int]:
    """Return n distinct ports that are currently free on 127.0.0.1."""
    lo, hi = _candidate_range()
    rng = random.Random(os.getpid() ^ random.getrandbits(32))
    out: list[int] = []
    with _lock:
        attempts = 0
        while len(out) < n:
            attempts += 1
            if attempts > 10000:
                raise RuntimeError(f"could not find {n} free ports in {lo}-{hi}")
            port = rng.randint(lo, hi)
            if port in _used or port in out:
                continue
            if _can_bind(port):
                out.append(port)
        _used.update(out)
    return out
