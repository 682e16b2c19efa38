"""Folder source: Kubernetes YAML/JSON files under a directory → object events.

The folder is polled (no inotify dependency; a stat per file every `interval` seconds is
cheap even for thousands of files). After the first scan, a changed file larger than
SLOW_FILE_BYTES is read in a short-lived worker process, so its parse neither holds back the
small files changed after it nor leaves its garbage in the controller's heap; its last
objects stay in force until the read lands. A file that fails to
parse is reported with its reason and its last good objects stay in force; nothing else is
affected. Each document goes through
the validation boundary (intake.py) as soon as it is parsed: an invalid one becomes a
`reject` event for its key, and the file's other documents are unaffected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller import faults
from controller.events import REJECT, Event, ObjectEvent, Synced
from controller.k8s.documents import (
    MAX_DOCUMENTS,
    ParseError,
    flatten,
    parse_documents,
    raw_documents,
    yaml_document_texts,
)
from controller.sources.files import Stamp, file_stamp, walk
from controller.sources.first_read import read_all, spawned_reader
from controller.sources.gc_pause import pause_gc
from controller.sources.intake import admit_event

log = logging.getLogger(__name__)

# A source file larger than this is refused (reported, its last good objects kept): a
# runaway generator must not take the controller's memory with it.
MAX_FILE_BYTES = 256 * 1024 * 1024
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


Key = tuple[str, str, str]  # kind, namespace, name


@dataclass(frozen=True, slots=True)
class Piece:
    """One YAML document of a file, as last read: where its events start in the file's
    document order (an object without a name is named by that index), and its events."""

    index: int
    events: tuple[ObjectEvent, ...]
    named_by_index: bool


Pieces = dict[str, Piece]
"""A file's document texts → what each was read as."""
Read = tuple[dict[Key, ObjectEvent], Pieces] | str
"""A file's read: its events and pieces, or the one-line reason it cannot be read."""


def file_events(path: Path, text: str,
                previous: Pieces | None = None) -> tuple[dict[Key, ObjectEvent], Pieces]:
    """The events a file's documents stand for, through the validation boundary, keyed by
    object, and the file's pieces. A YAML document whose text is among `previous` (the
    file's last read) is not parsed or validated again (perf: one object edited in a
    500-object file re-read all 500: p50 232 ms per change at 1.2k objects). Raises
    ParseError when the file cannot be read as manifests at all."""
    texts = None if path.suffix == ".json" else yaml_document_texts(text)
    if texts is None or not previous:
        raw = raw_documents(text, json_file=path.suffix == ".json")
        if texts is None or len(raw) != len(texts):
            return _keyed(_admitted(path, [d for r in raw for d in flatten(r)], 0)), {}
        parsed: list[list[Any] | None] = [list(flatten(r)) for r in raw]  # one parser
    else:
        parsed = [None] * len(texts)
    pieces: Pieces = {}
    events: list[ObjectEvent] = []
    for piece_text, docs in zip(texts, parsed, strict=True):
        found = (previous or {}).get(piece_text)
        if found is None or (found.named_by_index and found.index != len(events)):
            if docs is None:
                docs = parse_documents(piece_text, json_file=False)
            admitted = _admitted(path, docs, len(events))
            found = Piece(len(events), tuple(admitted), any(
                e.name.startswith(f"{path}#") for e in admitted))
        pieces[piece_text] = found
        events.extend(found.events)
        if len(events) > MAX_DOCUMENTS:
            raise ParseError(f"more than the {MAX_DOCUMENTS} documents a file may hold")
    return _keyed(events), pieces


def _admitted(path: Path, docs: list[object], start: int) -> list[ObjectEvent]:
    return [admit_event(doc, source=str(path), fallback_name=f"{path}#{start + i}")
            for i, doc in enumerate(docs)]


def _keyed(events: list[ObjectEvent]) -> dict[Key, ObjectEvent]:
    return {event.key: event for event in events}  # a later document wins a duplicate


@dataclass
class FileState:
    stamp: Stamp
    objects: dict[Key, ObjectEvent] = field(default_factory=dict)
    pieces: Pieces = field(default_factory=dict)


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
    _current: dict[Key, ObjectEvent] = field(default_factory=dict)
    _holders: dict[Key, set[Path]] = field(default_factory=dict)  # the files defining a key
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
        started, resume_gc = time.perf_counter(), pause_gc()
        try:
            first = self.scan(inline=True)
        finally:
            resume_gc(freeze=True)
        log.info("first scan of %s: %d files, %d objects in %.2f s", self.root,
                 len(self.files), len(first), time.perf_counter() - started)
        for event in first:
            emit(event)
        emit(Synced("folder"))
        try:
            while True:
                for event in self.scan():
                    emit(event)
                await asyncio.sleep(max(self.interval, 10 * self.walk_seconds))
        finally:
            if self._lane is not None:
                self._lane.shutdown(wait=False, cancel_futures=True)

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
                read = read_file(path, stamp, old.pieces if old is not None else None)
                touched |= self._settle(path, stamp, read)
            else:
                self._hand_off(path, stamp)
        return self._diff(touched)

    def _first_reads(self, changed: list[tuple[Path, Stamp]]) -> dict[Path, Read]:
        """The first scan's files read by two, on the prestarted reader if there is one."""
        pool, self.first_reader = self.first_reader, None
        try:
            return read_all(changed, _read_new, helper=None if pool is None else lambda: pool)
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
        objects, pieces = read
        self.errors.pop(str(path), None)
        touched = self._forget(path)
        state = self.files[path] = FileState(stamp, objects, pieces)
        for key in state.objects:
            self._holders.setdefault(key, set()).add(path)
        return touched | state.objects.keys()

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
        if state is None:
            return set()
        for key in state.objects:
            holders = self._holders[key]
            holders.discard(path)
            if not holders:
                del self._holders[key]
        return set(state.objects)

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
            event = self.files[max(holders)].objects[key]
            if not _same(self._current.get(key), event):
                self._current[key] = event
                upserts.append(event)
        return deletes + upserts


def read_file(path: Path, stamp: Stamp, previous: Pieces | None) -> Read:
    """One file's events and pieces, or why it cannot be read. Pure: it runs in the lane's
    process too (there without `previous`: the pieces would cross the process boundary)."""
    try:
        if stamp[1] > MAX_FILE_BYTES:
            raise ParseError(f"{stamp[1]} bytes is more than the {MAX_FILE_BYTES} a "
                             "source file may hold")
        return file_events(path, path.read_text(encoding="utf-8"), previous)
    except (OSError, UnicodeDecodeError, ParseError) as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - the parse stage's error boundary
        return faults.quarantine_reason("parse", str(path), err)


def _read_new(path: Path, stamp: Stamp) -> Read:
    """read_file of a file never read before (picklable, for first_read's helper)."""
    return read_file(path, stamp, None)


def _same(old: ObjectEvent | None, new: ObjectEvent) -> bool:
    """Equal but for the file a valid object came from: a renamed file is not a change. A
    report names its file, so for a rejected object the file counts."""
    if old is None or (old.op, old.obj, old.reasons, old.warnings) != (
            new.op, new.obj, new.reasons, new.warnings):
        return False
    return new.op != REJECT or old.source == new.source
