"""Folder source: Kubernetes YAML/JSON files under a directory → object events.

The folder is polled (no inotify dependency; a stat per file every `interval` seconds is
cheap even for thousands of files). After the first scan, a changed file larger than
SLOW_FILE_BYTES is read in a short-lived worker process, so its parse neither holds back the
small files changed after it nor leaves its garbage in the controller's heap; its last
objects stay in force until the read lands. A file that fails to
parse is reported with its reason and its last good objects stay in force; nothing else is
affected. Each document goes through
the validation boundary (intake.py) as soon as it is parsed: an invalid one becomes a
`reject` event for its key, and the file's other documents are unaffected. What the source
keeps of each file for its diff is compact (folder_read.py: objects marshalled, document
texts as digests).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from controller.dag.multimap import MultiMap
from controller.events import Event, ObjectEvent, Synced
from controller.k8s.documents import parse_documents  # noqa: F401 - for controller.demo
from controller.sources.files import file_stamp, walk
from controller.sources.first_read import read_all, spawned_reader
from controller.sources.folder_read import (
    Contents,
    FileRead,
    Kept,
    Key,
    Read,
    Stamp,
    read_file,
    read_new,
    same,
    unpacked,
)
from controller.sources.gc_pause import pause_gc

log = logging.getLogger(__name__)

SLOW_FILE_BYTES = 512 * 1024
"""After the first scan, a changed file above this is read off the event loop. Measured
(fuzzer seed 20261202, batch 12): a 1.3 MB HTTPProxy of 5,000 routes parses in 1.5 s; read
inline, it held an unrelated new vhost back 2.4-2.6 s, because every scan (and so the next
file) waited for it. A 500-document file of the 10k bench is ~150 kB and stays inline."""


def large_file_reader() -> Executor:
    """The lane for large files: a fresh process per read, paid only by files over
    SLOW_FILE_BYTES. A reader thread made the fuzzer's drained RSS 165 MB against 129 MB
    inline (first_read.spawned_reader says why)."""
    return spawned_reader(fresh_per_read=True)


@dataclass
class FileState:
    """What the source keeps of a file: its stamp when last read, and what it read (compact:
    folder_read.Contents)."""

    stamp: Stamp
    contents: Contents = field(default_factory=Contents)


@dataclass
class FolderSource:
    """Scans `root` and emits events for what changed since the previous scan."""

    root: Path
    interval: float = 0.05
    """Seconds between scans; stretched to 10x the cost of the scan's stat walk so a huge
    folder never takes more than ~10% of a core idle, while a small one sees a change within
    ~50 ms. Not stretched by what re-reading changed files cost: that is work a change needs
    anyway, and a slow hostile file (huge, deep) used to stretch the wait for the next,
    unrelated change to seconds (the fuzzer measured p50 3.2 s)."""
    walk_seconds: float = 0.0
    """What the last scan's stat walk cost."""
    files: dict[Path, FileState] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # file → reason, for /debug
    _current: dict[Key, Kept] = field(default_factory=dict)  # what was emitted last
    _holders: MultiMap[Key, Path] = field(default_factory=MultiMap)  # the files defining a key
    _live: dict[Path, FileRead] = field(default_factory=dict)
    """This scan's reads, whose parsed events are emitted as they are (not unpacked)."""
    lane: Callable[[], Executor] = large_file_reader
    """Makes the executor large files are read on (tests pass a thread pool)."""
    reading: dict[Path, tuple[Stamp, Future[Read]]] = field(default_factory=dict)
    """Files handed to the lane and not settled yet (/debug/sources lists them)."""
    _lane: Executor | None = None
    first_reader: Executor | None = None
    """A reader already started for the first scan (first_read.prestarted_reader); it is
    shut down once that scan is read."""

    async def run(self, emit: Callable[[Event], None]) -> None:
        if not self.root.is_dir():
            raise FileNotFoundError(f"--source-dir {self.root}: not a directory")
        self._emit_first_scan(emit)
        emit(Synced("folder"))
        try:
            while True:
                for event in self.scan():
                    emit(event)
                await asyncio.sleep(max(self.interval, 10 * self.walk_seconds))
        finally:
            if self._lane is not None:
                self._lane.shutdown(wait=False, cancel_futures=True)

    def _emit_first_scan(self, emit: Callable[[Event], None]) -> None:
        """Read every file (GC paused) and emit its events. perf: the events' list dies
        with this frame; kept in run()'s frame, it held every object as read (the raw
        dicts) for the process's life: 270 MB at 50k objects per kind (tracemalloc)."""
        started, resume_gc = time.perf_counter(), pause_gc()
        try:
            first = self.scan(inline=True)
        finally:
            resume_gc(freeze=True)
        log.info("first scan of %s: %d files, %d objects in %.2f s", self.root,
                 len(self.files), len(first), time.perf_counter() - started)
        for event in first:
            emit(event)

    def scan(self, *, inline: bool = False) -> list[ObjectEvent]:
        """Re-read changed files and return the object-level difference. Unless `inline`,
        a large changed file is handed to the lane, and its events come with the first scan
        after its read has finished."""
        started = time.perf_counter()
        seen = {p: file_stamp(p) for p in walk(self.root)}
        self.walk_seconds = time.perf_counter() - started
        touched = self._landed(seen)
        for path in [p for p in self.files if p not in seen]:
            touched |= self._forget(path)
            self.errors.pop(str(path), None)
        changed = [(path, stamp) for path, stamp in sorted(seen.items()) if stamp is not None
                   and (path not in self.files or self.files[path].stamp != stamp)]
        if inline and not self.files:  # the first scan: read by two (first_read.py)
            reads = self._first_reads(changed)
            for path, stamp in changed:
                touched |= self._settle(path, stamp, reads[path])
            return self._diff(touched)
        for path, stamp in changed:
            if inline or stamp[1] <= SLOW_FILE_BYTES:
                old = self.files.get(path)
                read = read_file(path, stamp, old.contents if old is not None else None)
                touched |= self._settle(path, stamp, read)
            else:
                self._hand_off(path, stamp)
        return self._diff(touched)

    def _first_reads(self, changed: list[tuple[Path, Stamp]]) -> dict[Path, Read]:
        """The first scan's files read by two, on the prestarted reader if there is one."""
        pool, self.first_reader = self.first_reader, None
        try:
            return read_all(changed, read_new, helper=None if pool is None else lambda: pool)
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _hand_off(self, path: Path, stamp: Stamp) -> None:
        """Read `path` in the lane unless that read is already under way."""
        reading = self.reading.get(path)
        if reading is not None and reading[0] == stamp:
            return
        if reading is not None:
            reading[1].cancel()  # a newer version is on disk; a started read is dropped
        if self._lane is None:
            self._lane = self.lane()
        self.reading[path] = (stamp, self._lane.submit(read_file, path, stamp, None))

    def _landed(self, seen: dict[Path, Stamp | None]) -> set[Key]:
        """Settle the lane's finished reads whose file is still the version they read."""
        touched: set[Key] = set()
        for path, (stamp, future) in list(self.reading.items()):
            if not future.done():
                continue
            del self.reading[path]
            if seen.get(path) != stamp or future.cancelled():
                continue
            err = future.exception()
            if isinstance(err, BrokenExecutor):
                self._lane = None  # the reader died (killed, out of memory): a new one next
            read = future.result() if err is None else f"the file's reader failed: {err!r}"
            touched |= self._settle(path, stamp, read)
        return touched

    def _settle(self, path: Path, stamp: Stamp, read: Read) -> set[Key]:
        """Take in one file's read; the keys it defined before or defines now (none on an
        error)."""
        if isinstance(read, str):
            return self._failed(path, stamp, read)
        self.errors.pop(str(path), None)
        touched = self._forget(path)
        self.files[path] = FileState(stamp, read.contents)
        self._live[path] = read
        for key in read.objects:
            self._holders.add(key, path)
        return touched | read.objects.keys()

    def _failed(self, path: Path, stamp: Stamp, reason: str) -> set[Key]:
        """Report a file that cannot be read; its last good objects stay in force."""
        if self.errors.get(str(path)) != reason:
            log.error("source %s: %s (its last good objects stay in force)", path, reason)
        self.errors[str(path)] = reason
        if path in self.files:
            self.files[path].stamp = stamp  # don't re-read until it changes again
        else:
            self.files[path] = FileState(stamp)
        return set()

    def _forget(self, path: Path) -> set[Key]:
        state = self.files.pop(path, None)
        self._live.pop(path, None)
        if state is None:
            return set()
        keys = set(state.contents.keys)
        for key in keys:
            self._holders.discard(key, path)
        return keys

    def _diff(self, keys: set[Key]) -> list[ObjectEvent]:
        """Events for the touched keys only (perf: comparing all 30k objects of the 10k
        benchmark after a one-line change took ~45 ms). A later file (by path) wins a
        duplicated key."""
        deletes, upserts = [], []
        for key in sorted(keys):
            holders = self._holders.get(key)
            if not holders:
                gone = self._current.pop(key, None)
                if gone is not None:
                    deletes.append(ObjectEvent.delete(*key, source=gone.source))
                continue
            winner = max(holders)
            read = self._live.get(winner)  # read by this scan, or kept from an earlier one
            wins = (read.objects[key] if read is not None
                    else self.files[winner].contents.winner(key))
            if not same(self._current.get(key), wins):
                self._current[key] = wins
                upserts.append(read.event(key) if read is not None else unpacked(key, wins))
        self._live.clear()
        return deletes + upserts
