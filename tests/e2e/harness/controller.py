"""The controller under test, driven only through its CLI and HTTP endpoints."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controller.faults import BUG_MARKER

from .ports import allocate_ports
from .procs import ManagedProcess

REPO_ROOT = Path(__file__).resolve().parents[3]
ROUTE_LAYOUT_ENV = "CONTOUR_E2E_ROUTE_LAYOUT"
"""`scoped` or `single`: every controller the harness starts serves in that route layout
(config file key `route-layout`), unless a test sets its own."""


@dataclass(frozen=True)
class Ports:
    xds: int
    http: int
    https: int
    stats: int
    debug: int
    metrics: int
    admin: int  # Envoy admin

    @classmethod
    def allocate(cls) -> Ports:
        return cls(*allocate_ports(7))


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET http://127.0.0.1:port/path without any proxy environment."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONUNBUFFERED"] = "1"
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    return env


def bootstrap_argv(path: Path, ports: Ports) -> list[str]:
    return [
        sys.executable, "-m", "controller", "bootstrap", str(path),
        "--xds-address", "127.0.0.1", "--xds-port", str(ports.xds),
        "--admin-address", "127.0.0.1", "--admin-port", str(ports.admin),
    ]


def start_bootstrap(path: Path, ports: Ports, log_path: Path) -> ManagedProcess:
    return ManagedProcess("contour bootstrap", bootstrap_argv(path, ports), log_path,
                          cwd=REPO_ROOT, env=_env())


def finish_bootstrap(proc: ManagedProcess, path: Path, timeout: float = 60) -> None:
    try:
        proc.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise RuntimeError(
            f"`{' '.join(proc.argv)}` did not finish in {timeout}s:\n{proc.tail()}") from None
    rc = proc.returncode
    proc.stop()
    if rc != 0:
        raise RuntimeError(f"`{' '.join(proc.argv)}` exited {rc}:\n{proc.tail()}")
    try:
        json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise RuntimeError(f"bootstrap {path} is not a JSON file: {e}\n{proc.tail()}") from e


def serve_argv(source_dir: Path, ports: Ports, settings: dict[str, Any],
               config_path: Path | None, source_args: list[str] | None = None) -> list[str]:
    """`contour serve` for the harness; `source_args` replaces `--source-dir DIR` (cluster
    mode: `--kubeconfig PATH`)."""
    argv = [
        sys.executable, "-m", "controller", "serve", "--insecure",
        *(source_args if source_args is not None else ["--source-dir", str(source_dir)]),
        "--xds-address", "127.0.0.1", "--xds-port", str(ports.xds),
        "--envoy-service-http-address", "127.0.0.1", "--envoy-service-http-port", str(ports.http),
        "--envoy-service-https-address", "127.0.0.1",
        "--envoy-service-https-port", str(ports.https),
        "--stats-address", "127.0.0.1", "--stats-port", str(ports.stats),
        "--debug-http-address", "127.0.0.1", "--debug-http-port", str(ports.debug),
        "--http-address", "127.0.0.1", "--http-port", str(ports.metrics),
        "--envoy-http-access-log", "/dev/null", "--envoy-https-access-log", "/dev/null",
    ]
    for key, flag in (("ingressroute_root_namespaces", "--ingressroute-root-namespaces"),
                      ("root_namespaces", "--root-namespaces")):
        if settings.get(key):  # a list of namespaces (schema.py)
            argv += [flag, ",".join(settings[key])]
    if settings.get("ingress_class_name"):
        argv += ["--ingress-class-name", str(settings["ingress_class_name"])]
    if config_path is not None:
        argv += ["-c", str(config_path)]
    return argv


def config_document(settings: dict[str, Any]) -> dict[str, Any] | None:
    """contour.yaml for the scenario's controller settings (None: no file needed)."""
    doc: dict[str, Any] = {}
    if settings.get("disable_permit_insecure"):
        doc["disablePermitInsecure"] = True
    tls: dict[str, Any] = {}
    if settings.get("tls_minimum_protocol_version"):
        tls["minimum-protocol-version"] = str(settings["tls_minimum_protocol_version"])
    if settings.get("tls_fallback_certificate"):
        ns, name = str(settings["tls_fallback_certificate"]).split("/")
        tls["fallback-certificate"] = {"name": name, "namespace": ns}
    if tls:
        doc["tls"] = tls
    layout = os.environ.get(ROUTE_LAYOUT_ENV)
    if layout:  # the whole suite through another route layout (docs/decisions.md)
        doc["route-layout"] = layout
    doc.update(settings.get("config_file") or {})  # tests: raw config file keys
    return doc or None


class Controller:
    def __init__(self, workdir: Path, source_dir: Path, ports: Ports,
                 settings: dict[str, Any], source_args: list[str] | None = None) -> None:
        self.ports = ports
        self.source_dir = source_dir
        config_path = None
        doc = config_document(settings)
        if doc is not None:
            config_path = workdir / "contour.yaml"  # outside source_dir on purpose
            config_path.write_text(yaml.safe_dump(doc))
        self.argv = serve_argv(source_dir, ports, settings, config_path, source_args)
        self.proc = ManagedProcess("controller", self.argv, workdir / "controller.log",
                                   cwd=REPO_ROOT, env=_env())

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise RuntimeError(
                    f"controller exited (rc={self.proc.returncode}) before /healthz answered\n"
                    f"argv: {' '.join(self.argv)}\n--- controller log ---\n{self.proc.tail(60)}")
            try:
                status, _ = http_get(self.ports.metrics, "/healthz", timeout=1)
                if status == 200:
                    return
                last = f"status {status}"
            except OSError as e:
                last = f"{e.__class__.__name__}: {e}"
            time.sleep(0.05)
        raise RuntimeError(
            f"controller /healthz on :{self.ports.metrics} not 200 within {timeout}s ({last})\n"
            f"--- controller log ---\n{self.proc.tail(60)}")

    def debug_status(self) -> tuple[list[dict[str, Any]] | None, str | None]:
        try:
            status, body = http_get(self.ports.debug, "/debug/status", timeout=3)
        except OSError as e:
            return None, f"GET /debug/status: {e.__class__.__name__}: {e}"
        if status != 200:
            return None, f"GET /debug/status: HTTP {status}: {body[:300]!r}"
        try:
            data = json.loads(body)
        except ValueError as e:
            return None, f"GET /debug/status: not JSON ({e}): {body[:300]!r}"
        if not isinstance(data, list):
            return None, f"GET /debug/status: not a JSON list: {body[:300]!r}"
        return data, None

    def bug_lines(self) -> list[str]:
        """Lines the controller's error boundaries logged as bugs (controller/faults.py)."""
        try:
            text = self.proc.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if BUG_MARKER in line]

    def stop(self) -> None:
        """Stop the process; raise when it logged a bug (an exception escaped a stage)."""
        self.proc.stop()
        bugs = self.bug_lines()
        if bugs:
            raise AssertionError("the controller caught escaped exceptions:\n" + "\n".join(bugs))
