"""A test host of our own: a network namespace joined to this one by a veth pair.

The API server refuses Endpoints and EndpointSlices in 127.0.0.0/8, so cluster-mode backends
need another address; the only other addresses tests may send traffic to are those of test
hosts in network namespaces the run made itself. So the backends' event-loop thread enters
this namespace (setns is per thread on Linux) and binds the namespace's address, while the
rest of the test process, the controller and Envoy stay where they are and reach it through
the veth pair. Created once per test process, deleted at exit; failing to create it fails
the tests that need it, with the reason.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import subprocess
from dataclasses import dataclass
from functools import cache

CLONE_NEWNET = 0x40000000


class NetworkError(RuntimeError):
    """The test network could not be set up; the message says which step and why."""


@dataclass(frozen=True)
class BackendNetwork:
    name: str
    host_ip: str  # our side of the veth pair (this namespace)
    backend_ip: str  # the test host: the namespace's side, where backends listen

    def enter_in_this_thread(self) -> None:
        """Move the calling thread (only it) into the test host's namespace."""
        fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise NetworkError(f"setns into {self.name}: {os.strerror(err)}")
        finally:
            os.close(fd)


def _run(*argv: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NetworkError(f"`{' '.join(argv)}` failed ({proc.returncode}): "
                           f"{proc.stderr.strip()} (needs root and iproute2)")


def _addresses(pid: int) -> tuple[str, str]:
    """A /30 in 198.18.0.0/15 (RFC 2544 test range) picked by pid, so concurrent test
    processes on one machine do not collide."""
    block = (pid % 16384) * 4
    third, fourth = block // 256, block % 256
    return f"198.18.{third}.{fourth + 1}", f"198.18.{third}.{fourth + 2}"


@cache
def backend_network() -> BackendNetwork:
    pid = os.getpid()
    name, outer, inner = f"kcontour-{pid}", f"kch{pid % 100000}", f"kcn{pid % 100000}"
    host_ip, backend_ip = _addresses(pid)
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    _run("ip", "netns", "add", name)
    atexit.register(subprocess.run, ["ip", "netns", "del", name], capture_output=True,
                    check=False)
    _run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
    _run("ip", "link", "set", inner, "netns", name)
    _run("ip", "addr", "add", f"{host_ip}/30", "dev", outer)
    _run("ip", "link", "set", outer, "up")
    for step in (("addr", "add", f"{backend_ip}/30", "dev", inner),
                 ("link", "set", inner, "up"), ("link", "set", "lo", "up")):
        _run("ip", "netns", "exec", name, "ip", *step)
    return BackendNetwork(name, host_ip, backend_ip)
