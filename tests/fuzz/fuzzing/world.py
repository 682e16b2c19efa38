"""The system under fuzz: `contour serve --source-dir` and a real Envoy (the e2e harness's
processes), real backends for a fixed set of control virtual hosts, and what the checks
read from them (debug pages, the controller's log, RSS, Envoy's admin).

Control objects live in the namespace `fuzz-control`, which no generated object uses; the
hostile objects only ever point into it to steal its secret.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from harness import client
from harness.backends import BackendPool
from harness.controller import Controller, Ports, finish_bootstrap, http_get, start_bootstrap
from harness.envoy import Envoy

from fuzzing import valid
from fuzzing.cases import CONTROL_NAMESPACE, CONTROL_SECRET, dump_yaml

NS = CONTROL_NAMESPACE
PLAIN_HOSTS = {"c1.control.fuzz": "c1", "c2.control.fuzz": "c2", "ci.control.fuzz": "c2"}
TLS_HOST, TLS_SERVICE = "c0.control.fuzz", "c0"
CONTROL_SERVICES = ("c0", "c1", "c2")
PROBE_SERVICE = "probe"


def control_objects(backends: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    """The control vhosts: c0 over HTTPS (secret `control-tls`), c1 and c2 over HTTP, and
    an Ingress `ci` onto c2; each Service with Endpoints onto its own backend."""
    import random

    rnd = random.Random(0)  # fixed optional fields: the control vhosts never change
    objs: list[dict[str, Any]] = [valid.tls_secret(NS, CONTROL_SECRET)]
    for svc in CONTROL_SERVICES:
        ip, port = backends[svc]
        objs += [valid.service(NS, svc), valid.endpoints(NS, svc, ip, port)]
    objs.append(valid.ingressroute(NS, "c0", {
        "virtualhost": {"fqdn": TLS_HOST, "tls": {"secretName": CONTROL_SECRET}},
        "routes": [{"match": "/", "services": [{"name": "c0", "port": 80}]}]}))
    for name in ("c1", "c2"):
        objs.append(valid.ingressroute(NS, name, {
            "virtualhost": {"fqdn": f"{name}.control.fuzz"},
            "routes": [{"match": "/", "services": [{"name": name, "port": 80}]}]}))
    ing = valid.ingress(rnd, NS, "ci", "ci.control.fuzz", "c2")
    ing["spec"]["rules"][0]["http"]["paths"] = [
        {"path": "/", "pathType": "Prefix",
         "backend": {"service": {"name": "c2", "port": {"number": 80}}}}]
    return objs + [ing]


def probe_objects(index: int, backend: tuple[str, int]) -> list[dict[str, Any]]:
    """A new vhost onto a new Service (so a new cluster that must warm): the unrelated
    change whose latency invariant 4 measures."""
    name = f"probe-{index}"
    return [valid.service(NS, name), valid.endpoints(NS, name, *backend),
            valid.ingressroute(NS, name, {
                "virtualhost": {"fqdn": f"{name}.control.fuzz"},
                "routes": [{"match": "/", "services": [{"name": name, "port": 80}]}]})]


def envoy_rejections(envoy: Envoy) -> dict[str, int]:
    """Envoy's own `update_rejected` counters that are not zero."""
    text = envoy.admin("/stats?filter=update_rejected", limit=1 << 20)
    out = {}
    for m in re.finditer(r"^(\S+update_rejected): (\d+)$", text, re.MULTILINE):
        if int(m.group(2)):
            out[m.group(1)] = int(m.group(2))
    return out


def nacks(xds_page: dict[str, Any]) -> list[tuple[tuple[str, str, str], str]]:
    """Every NACK /debug/xds shows: ((node, type, rejected version), a line saying it)."""
    return [((str(node.get("node")), type_url, str(st["nack"].get("version"))),
             f"node {node.get('node')} NACKed {type_url.rsplit('.', 1)[-1]}: "
             f"{str(st['nack'].get('error'))[:600]}")
            for node in xds_page.get("nodes", [])
            for type_url, st in sorted(node.get("types", {}).items()) if st.get("nack")]


class World:
    """Backends, the controller and Envoy, started by `start()` and stopped by `close()`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.source = workdir / "objects"
        self.source.mkdir(parents=True, exist_ok=True)
        self.ports = Ports.allocate()
        self.pool = BackendPool()
        self.backends: dict[str, tuple[str, int]] = {}
        self.controller: Controller | None = None
        self.envoy: Envoy | None = None
        self._log_offset = 0
        self.restarts = 0

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        idents = [(f"{NS}/{s}:80", None) for s in (*CONTROL_SERVICES, PROBE_SERVICE)]
        for b in self.pool.start(idents):
            self.backends[b.service] = (b.ip, b.port)
        self.write("control/control.yaml", dump_yaml(control_objects(self.backends)))
        self.start_controller(timeout)
        boot = self.workdir / "envoy.json"
        finish_bootstrap(start_bootstrap(boot, self.ports, self.workdir / "bootstrap.log"), boot)
        self.envoy = Envoy(self.workdir, boot, "fuzz", self.ports.admin)
        deadline = time.monotonic() + timeout
        while self.control_traffic_problems():
            if time.monotonic() > deadline or not self.envoy.proc.alive():
                raise RuntimeError(f"control vhosts not served through Envoy within {timeout}s: "
                                   f"{self.control_traffic_problems()}\n"
                                   f"--- envoy ---\n{self.envoy.proc.tail(30)}\n"
                                   f"--- controller ---\n{self.controller_tail()}")
            time.sleep(0.1)

    def start_controller(self, timeout: float = 60) -> None:
        self.controller = Controller(self.workdir, self.source, self.ports, {})
        self.controller.wait_healthy(timeout)

    def restart_controller(self) -> None:
        """After a crash: the process is gone; start a new one on the same ports."""
        assert self.controller is not None
        self.controller.proc.stop()
        self.restarts += 1
        self.start_controller()

    def close(self) -> list[str]:
        """Stop everything; the bug lines the controller logged (an escaped exception)."""
        bugs: list[str] = []
        if self.envoy is not None:
            self.envoy.stop()
        if self.controller is not None:
            bugs = self.controller.bug_lines()
            self.controller.proc.stop()
        self.pool.close()
        return bugs

    # -- the source folder --------------------------------------------------------------------

    def write(self, rel: str, text: str) -> None:
        """Write atomically (a hidden temporary name, then a rename): the folder source never
        sees half a file."""
        path = self.source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.tmp"
        tmp.write_bytes(text.encode("utf-8", "surrogatepass"))
        os.replace(tmp, path)

    def remove(self, rel: str) -> None:
        (self.source / rel).unlink(missing_ok=True)

    def path_of(self, rel: str) -> str:
        return str(self.source / rel)

    # -- what the checks read -----------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.controller is not None and self.controller.proc.alive()

    def livez(self) -> str | None:
        """None when /livez answers 200, else what it answered."""
        try:
            status, body = http_get(self.ports.metrics, "/livez", timeout=5)
        except OSError as e:
            return f"{type(e).__name__}: {e}"
        return None if status == 200 else f"HTTP {status}: {body[:200]!r}"

    def debug(self, path: str) -> Any:
        status, body = http_get(self.ports.debug, path, timeout=10)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:300]!r}")
        return json.loads(body)

    def new_log_lines(self) -> list[str]:
        """The controller's log lines written since the previous call."""
        assert self.controller is not None
        with open(self.controller.proc.log_path, "rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        cut = data.rfind(b"\n") + 1
        self._log_offset += cut
        return data[:cut].decode("utf-8", "replace").splitlines()

    def controller_tail(self, lines: int = 30) -> str:
        return self.controller.proc.tail(lines) if self.controller else "<no controller>"

    def rss_mb(self) -> tuple[float, float]:
        """The controller's VmRSS and VmHWM (peak) in MB."""
        assert self.controller is not None
        values = {}
        for line in Path(f"/proc/{self.controller.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0]) / 1024
        return round(values["VmRSS"], 1), round(values["VmHWM"], 1)

    def envoy_rejections(self) -> dict[str, int]:
        assert self.envoy is not None
        return envoy_rejections(self.envoy)

    def get(self, host: str, https: bool = False) -> client.Response:
        opts = client.RequestOptions(host=host, scheme="https" if https else "http", timeout=5)
        return client.request(self.ports.https if https else self.ports.http, opts)

    def control_traffic_problems(self) -> list[str]:
        """Each control vhost must answer 200 from its own backend through Envoy."""
        problems = []
        checks = [(h, s, False) for h, s in PLAIN_HOSTS.items()] + [(TLS_HOST, TLS_SERVICE, True)]
        for host, svc, https in checks:
            r = self.get(host, https)
            expected = f"{NS}/{svc}:80"
            if r.status != 200 or r.backend != expected:
                problems.append(f"{'https' if https else 'http'}://{host}: {r.summary(120)} "
                                f"(expected 200 from {expected})")
        return problems
