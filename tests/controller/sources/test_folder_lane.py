"""The folder source's lane: a large changed file is read off the event loop, and the small
files changed with it or after it are not held back (issue 7: isolation in time). The gated
tests read in a thread, to hold the read back; one test reads in the real spawned process."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from controller.events import DELETE, UPSERT
from controller.sources import folder, folder_read
from controller.sources.folder import FolderSource

SVC = "apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\n" \
      "spec: {ports: [{port: %d}]}\n"
BIG = "big.yaml"


def ops(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.op, e.name) for e in events]


def write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def big(name: str, port: int = 80) -> str:
    """A Service padded with a comment past the (test's) lane threshold."""
    return SVC % (name, port) + "# " + "x" * 400 + "\n"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Large = over 300 bytes; big.yaml's reads on the worker thread wait until the returned
    event is set."""
    opened = threading.Event()
    real = folder_read.file_events

    def gated(path: Path, text: str, previous: Any = None) -> Any:
        if path.name == BIG and threading.current_thread() is not threading.main_thread():
            assert opened.wait(10), "the test never opened the gate"
        return real(path, text, previous)

    monkeypatch.setattr(folder, "SLOW_FILE_BYTES", 300)
    monkeypatch.setattr(folder_read, "file_events", gated)
    yield opened
    opened.set()


def threaded(root: Path) -> FolderSource:
    """A source whose lane is a thread, so the gate can hold its reads back."""
    return FolderSource(root, lane=lambda: ThreadPoolExecutor(1))


def until_landed(src: FolderSource) -> list[Any]:
    """Scan until the worker's read has landed; the events of that scan."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = src.scan()
        if events or not src.reading:
            return events
        time.sleep(0.01)
    raise AssertionError("the worker's read never landed")


def test_a_large_file_does_not_hold_back_a_small_one(tmp_path: Path, gate: threading.Event):
    src = threaded(tmp_path)
    src.scan(inline=True)
    write(tmp_path / BIG, big("b"))
    write(tmp_path / "small.yaml", SVC % ("s", 80))
    assert ops(src.scan()) == [(UPSERT, "s")]  # big.yaml's read waits at the gate
    assert src.scan() == []
    gate.set()
    assert ops(until_landed(src)) == [(UPSERT, "b")]
    assert src.scan() == [] and not src.reading


def test_the_first_scan_reads_everything_inline(tmp_path: Path, gate: threading.Event):
    """Synced follows the first scan, so it must hold every object of the folder."""
    write(tmp_path / BIG, big("b"))
    gate.set()
    assert ops(threaded(tmp_path).scan(inline=True)) == [(UPSERT, "b")]


def test_a_read_of_an_older_version_is_dropped(tmp_path: Path, gate: threading.Event):
    src = threaded(tmp_path)
    write(tmp_path / BIG, big("b", 80))
    src.scan(inline=True)
    write(tmp_path / BIG, big("b", 81))
    assert src.scan() == []  # the read of port 81 waits at the gate
    write(tmp_path / BIG, big("b", 82) + "# newer\n")
    src.scan()  # hands the newer version off too
    gate.set()
    (event,) = until_landed(src)
    assert event.obj["spec"]["ports"] == [{"port": 82}]


def test_a_file_deleted_while_read_is_not_revived(tmp_path: Path, gate: threading.Event):
    src = threaded(tmp_path)
    write(tmp_path / BIG, big("b"))
    src.scan(inline=True)
    write(tmp_path / BIG, big("b", 81))
    src.scan()
    (tmp_path / BIG).unlink()
    assert ops(src.scan()) == [(DELETE, "b")]
    gate.set()
    assert until_landed(src) == [] and src.scan() == []


def test_a_large_file_that_cannot_be_read_keeps_its_objects(tmp_path: Path,
                                                            gate: threading.Event):
    src = threaded(tmp_path)
    write(tmp_path / BIG, big("b"))
    src.scan(inline=True)
    write(tmp_path / BIG, "kind: [\n" + "# " + "x" * 400 + "\n")
    gate.set()
    assert until_landed(src) == []
    assert str(tmp_path / BIG) in src.errors and src._current  # b stays in force


def test_the_real_lane_reads_in_a_process_of_its_own(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(folder, "SLOW_FILE_BYTES", 300)
    src = FolderSource(tmp_path)
    src.scan(inline=True)
    write(tmp_path / BIG, big("b"))
    assert src.scan() == []
    (event,) = until_landed(src)
    assert (event.op, event.name, event.source) == (UPSERT, "b", str(tmp_path / BIG))
