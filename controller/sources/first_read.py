"""The folder source's first scan, read by two: the event loop's thread takes files from the
front of the list while one spawned reader process, once it is up, takes them from the back.

perf (issue 12, 10k roots + Services + Endpoints as 30k documents in 60 YAML files): the
parse and the validation boundary are ~2.5 s of CPU, all of it before the first build. A
reader process needs ~0.8 s to start, so it joins late; a file's read costs ~7 ms to pickle
there and ~8 ms to unpickle here, against ~40 ms to read. Below PARALLEL_BYTES the reader
would start after the work is done, and the thread reads alone.
"""

from __future__ import annotations

import importlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Generic, TypeVar

from controller.sources.files import total_bytes

PARALLEL_BYTES = 4 << 20
"""A first scan of fewer bytes is read by the thread alone."""

S = TypeVar("S")
R = TypeVar("R")
Reader = Callable[[Path, S], R]


def read_all(todo: list[tuple[Path, S]], read: Reader[S, R], *,
             helper: Callable[[], Executor] | None = None) -> dict[Path, R]:
    """`read(path, stamp)` of every file of `todo`, by path. `read` must be picklable (a
    module-level function) when a helper process takes part; a read the helper fails is
    done again here."""
    if len(todo) < 2 or sum(_size(s) for _, s in todo) < PARALLEL_BYTES:
        return {path: read(path, stamp) for path, stamp in todo}
    return _Shared(todo, read).run(helper or spawned_reader)


def _size(stamp: object) -> int:
    return stamp[1] if isinstance(stamp, tuple) else 0  # a Stamp: (mtime_ns, size, inode)


def spawned_reader(*, fresh_per_read: bool = False) -> Executor:
    """One reader process, spawned, not forked (the controller runs gRPC threads). Not a
    thread either: parsing 2.8 MB of YAML in-process left ~100 MB of CPython arenas pinned
    by a few survivors (22 of 112 MB in use after freeing). `fresh_per_read`: a new process
    for every read (~0.8 s to start), so no parse's garbage outlives it."""
    return ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                               max_tasks_per_child=1 if fresh_per_read else None)


def prestarted_reader(root: Path, module: str) -> Executor | None:
    """A spawned reader for the first scan of `root`, started now with `module` imported in
    it, or None when the folder is small enough for the thread alone (PARALLEL_BYTES).

    perf: started before the controller's own imports (~0.9 s), the reader's start (~0.8 s,
    its imports) runs beside them on the other core instead of after the scan began."""
    if total_bytes(root) < PARALLEL_BYTES:
        return None
    pool = spawned_reader()
    pool.submit(_import, module)
    return pool


def _import(module: str) -> None:
    importlib.import_module(module)


class _Shared(Generic[S, R]):
    """One list read from both ends; the helper is fed one file at a time."""

    def __init__(self, todo: list[tuple[Path, S]], read: Reader[S, R]) -> None:
        self.queue = deque(todo)
        self.read = read
        self.lock = threading.Lock()
        self.results: dict[Path, R] = {}
        self.failed: list[tuple[Path, S]] = []
        self.idle = threading.Event()  # the helper holds no file

    def run(self, helper: Callable[[], Executor]) -> dict[Path, R]:
        try:
            pool = helper()
        except Exception:  # noqa: BLE001 - no process to be had: the thread reads alone
            return {path: self.read(path, stamp) for path, stamp in self.queue}
        try:
            self._feed(pool)
            while (item := self._take(front=True)) is not None:
                self.results[item[0]] = self.read(*item)
            self.idle.wait()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for path, stamp in self.failed:
            self.results[path] = self.read(path, stamp)
        return self.results

    def _take(self, *, front: bool) -> tuple[Path, S] | None:
        with self.lock:
            if not self.queue:
                return None
            return self.queue.popleft() if front else self.queue.pop()

    def _feed(self, pool: Executor) -> None:
        item = self._take(front=False)
        if item is None:
            self.idle.set()
            return
        try:
            future = pool.submit(self.read, *item)
        except Exception:  # noqa: BLE001 - a broken pool: the thread reads the rest
            self.failed.append(item)
            self.idle.set()
            return
        future.add_done_callback(lambda f: self._landed(pool, item, f))

    def _landed(self, pool: Executor, item: tuple[Path, S], future: Future[R]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.failed.append(item)
            self.idle.set()  # a broken helper is not fed again
            return
        self.results[item[0]] = future.result()
        self._feed(pool)
