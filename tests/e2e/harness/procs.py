"""Child processes in their own process group, logged to a file, always killed."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

_registry: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()
_registry_lock = threading.Lock()


def stop_all() -> None:
    """Safety net (session finalizer / atexit): stop every process still running."""
    with _registry_lock:
        procs = list(_registry)
    for p in procs:
        p.stop(grace=1.0)


atexit.register(stop_all)


class ManagedProcess:
    def __init__(self, name: str, argv: Sequence[str], log_path: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab", buffering=0)  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=cwd, env=env, start_new_session=True,
        )
        self.pid = self.proc.pid
        self.started = time.monotonic()
        with _registry_lock:
            _registry.add(self)

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def tail(self, lines: int = 40, max_chars: int = 6000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError as e:
            return f"<cannot read {self.log_path}: {e}>"
        text = data.decode("utf-8", "replace")
        out = "\n".join(text.splitlines()[-lines:])
        return out[-max_chars:]

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM the process group, then SIGKILL it; idempotent."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(grace)
            # the leader may be gone while children of its group linger
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        finally:
            with contextlib.suppress(OSError):
                self._log.close()

    def describe(self) -> str:
        rc = self.returncode
        state = "running" if rc is None else f"exited rc={rc}"
        return f"{self.name} pid={self.pid} {state}: {' '.join(self.argv)}"
