"""What a node run could leave on the host, as comparable sets: mounts, network interfaces,
iptables rules, kernel tunables, cgroups, network namespaces in use and processes.

`snapshot()` reads them from the host's own namespaces (this process's); `leftovers(before,
after, run_dir)` says what `after` holds that `before` did not, per kind, plus any process
still naming the run's folder. The e2e harness's own test hosts (`kcontour-*` namespaces,
`kch*` veths, tests/e2e/harness/netns.py) come and go with other tests and are left out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# the tunables a kubelet, kube-proxy, containerd or a CNI plugin might write host-wide
SYSCTLS = (
    "vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet", "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables", "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_tcp_timeout_established",
    "net/netfilter/nf_conntrack_tcp_timeout_close_wait", "fs/inotify/max_user_watches",
    "fs/inotify/max_user_instances", "kernel/pid_max",
)
COUNTERS = re.compile(r"\[\d+:\d+\]")
OTHER_TESTS = re.compile(r"kcontour-|\bkch\d+|\bkcn\d+")


@dataclass(frozen=True)
class HostState:
    """One reading of each kind (see the module's docstring), every item as a string."""

    mounts: frozenset[str]
    links: frozenset[str]
    iptables: frozenset[str]
    sysctls: frozenset[str]
    cgroups: frozenset[str]
    netns: frozenset[str]


def _lines(*argv: str) -> list[str]:
    if shutil.which(argv[0]) is None:
        return []
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    return out.splitlines()


def _mounts() -> frozenset[str]:
    """Mount point, type and source of every mount this namespace sees (ids left out)."""
    rows = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        rows.add(f"{left.split()[4]} {' '.join(right.split()[:2])}")
    return frozenset(rows)


def _iptables() -> frozenset[str]:
    """Every rule and chain of every iptables flavour present (comments, counters dropped)."""
    rows = set()
    for tool in ("iptables-save", "ip6tables-save", "iptables-legacy-save",
                 "ip6tables-legacy-save"):
        rows.update(f"{tool}: {COUNTERS.sub('', ln)}" for ln in _lines(tool)
                    if ln and not ln.startswith("#"))
    return frozenset(rows)


def _sysctls() -> frozenset[str]:
    rows = set()
    for name in SYSCTLS:
        path = Path("/proc/sys") / name
        if path.exists():
            rows.add(f"{name}={path.read_text().strip()}")
    return frozenset(rows)


def _cgroups() -> frozenset[str]:
    rows = set()
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        rows.update(os.path.join(root, d) for d in dirs)
    return frozenset(rows)


def _netns() -> frozenset[str]:
    """The network namespaces some process is in (this one's included)."""
    rows = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            rows.add(os.readlink(f"/proc/{pid}/ns/net"))
        except OSError:
            continue
    return frozenset(rows)


def snapshot() -> HostState:
    links = frozenset(ln.split(":")[1].strip().split("@")[0] for ln in _lines("ip", "-o", "link"))
    return HostState(_mounts(), links, _iptables(), _sysctls(), _cgroups(), _netns())


def processes_naming(text: str) -> list[str]:
    """`pid: cmdline` of every process whose command line contains `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmd and int(pid) != os.getpid():
            found.append(f"{pid}: {cmd.strip()}")
    return sorted(found)


def own_cgroup() -> str:
    """This process's memory cgroup (where a node makes its cgroups), e.g. `/a/b`; `` at /."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path.rstrip("/")
    return ""


def leftovers(before: HostState, after: HostState, run_dir: Path) -> dict[str, list[str]]:
    """What `after` has and `before` had not, per kind (other tests' hosts left out), and the
    processes still naming `run_dir`; empty lists everywhere mean a clean teardown. A changed
    sysctl shows as its new value. Cgroups count below this process's own only: the machine
    makes cgroups of its own for other sessions."""
    scope = own_cgroup()
    found = {
        kind: sorted(x for x in getattr(after, kind) - getattr(before, kind)
                     if not OTHER_TESTS.search(x) and (kind != "cgroups" or scope in x))
        for kind in ("mounts", "links", "iptables", "sysctls", "cgroups", "netns")
    }
    found["processes"] = processes_naming(str(run_dir))
    return found
