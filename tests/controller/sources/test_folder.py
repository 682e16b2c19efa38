"""The folder source: files in, object events out; bad files keep their last good objects."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from pathlib import Path

import pytest

from controller.events import DELETE, REJECT, UPSERT, Synced
from controller.sources.folder import FolderSource

SVC = """apiVersion: v1
kind: Service
metadata: {name: %s, namespace: default}
spec: {ports: [{port: 80}]}
"""


def ops(events):
    return [(e.op, e.kind, e.namespace, e.name) for e in events]


def write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_a_bad_document_is_rejected_alone(tmp_path: Path):
    """A document the validation boundary refuses becomes a `reject` event for its own key;
    the file's other documents are admitted (issue 7: nothing else is affected)."""
    src = FolderSource(tmp_path)
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {ports: [{port: -1}]}\n"
    write(tmp_path / "a.yaml", SVC % "a" + "---\n" + bad + "---\n- not an object\n")
    events = src.scan()
    assert ops(events) == [(REJECT, "", "", f"{tmp_path / 'a.yaml'}#2"),
                           (UPSERT, "Service", "default", "a"),
                           (REJECT, "Service", "default", "bad")]
    assert all(e.source == str(tmp_path / "a.yaml") for e in events)
    assert any("spec.ports[0].port" in r for r in events[2].reasons)
    assert src.errors == {}


def test_removal_is_exact_whatever_the_metadata_held(tmp_path: Path):
    """An object whose metadata are unreadable is keyed by its place, so deleting the file
    removes its report too (issue 7: a list namespace used to outlive its file)."""
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", "apiVersion: contour.heptio.com/v1beta1\nkind: IngressRoute\n"
                               "metadata: {name: r, namespace: [x]}\n")
    (rejected,) = src.scan()
    assert rejected.op == REJECT
    (tmp_path / "a.yaml").unlink()
    assert [e.key for e in src.scan()] == [rejected.key]


def test_scan_add_change_remove(tmp_path: Path):
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "a")
    assert ops(src.scan()) == [(UPSERT, "Service", "default", "a")]
    assert src.scan() == []
    write(tmp_path / "a.yaml", (SVC % "a").replace("80", "81"))
    assert ops(src.scan()) == [(UPSERT, "Service", "default", "a")]
    (tmp_path / "a.yaml").unlink()
    assert ops(src.scan()) == [(DELETE, "Service", "default", "a")]


def test_parse_error_keeps_last_good_objects(tmp_path: Path):
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "a")
    write(tmp_path / "b.yaml", SVC % "b")
    src.scan()
    write(tmp_path / "a.yaml", "kind: [broken")
    assert src.scan() == []
    assert "a.yaml" in next(iter(src.errors))
    write(tmp_path / "a.yaml", SVC % "c")
    assert ops(src.scan()) == [(DELETE, "Service", "default", "a"),
                               (UPSERT, "Service", "default", "c")]
    assert src.errors == {}


def test_rename_moves_objects_without_churn(tmp_path: Path):
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "a")
    src.scan()
    os.rename(tmp_path / "a.yaml", tmp_path / "b.yml")
    assert src.scan() == []


def test_json_and_hidden_files(tmp_path: Path):
    src = FolderSource(tmp_path)
    (tmp_path / "x.json").write_text(
        '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "j"}}')
    (tmp_path / ".hidden.yaml").write_text(SVC % "h")
    (tmp_path / "notes.txt").write_text(SVC % "t")
    assert ops(src.scan()) == [(UPSERT, "Service", "default", "j")]


def test_duplicated_key_later_file_wins_and_earlier_returns(tmp_path: Path):
    # scan() diffs only the keys of files that changed: a key defined by two files must
    # still follow the later file (by path), and fall back to the earlier one when the
    # later one goes away.
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "s")
    write(tmp_path / "b.yaml", (SVC % "s").replace("port: 80", "port: 81"))
    write(tmp_path / "c.yaml", SVC % "other")
    first = src.scan()
    assert ops(first) == [(UPSERT, "Service", "default", "other"),
                          (UPSERT, "Service", "default", "s")]
    assert first[1].obj["spec"]["ports"] == [{"port": 81}]
    write(tmp_path / "a.yaml", (SVC % "s").replace("port: 80", "port: 82"))
    assert src.scan() == []  # the earlier file changed, the later one still wins
    (tmp_path / "b.yaml").unlink()
    back = src.scan()
    assert ops(back) == [(UPSERT, "Service", "default", "s")]
    assert back[0].obj["spec"]["ports"] == [{"port": 82}]
    (tmp_path / "a.yaml").unlink()
    assert ops(src.scan()) == [(DELETE, "Service", "default", "s")]


def test_an_oversized_file_is_refused_and_reported(tmp_path: Path, monkeypatch):
    import controller.sources.folder_read as folder_read

    monkeypatch.setattr(folder_read, "MAX_FILE_BYTES", 100)
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "a")
    write(tmp_path / "big.yaml", SVC % "b" + "#" * 200 + "\n")
    assert ops(src.scan()) == [(UPSERT, "Service", "default", "a")]
    assert "more than the 100" in src.errors[str(tmp_path / "big.yaml")]


async def test_the_first_scan_reads_without_the_cyclic_gc(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    """What the first scan reads is live data: collecting during it only costs (gc_pause.py);
    the collector is back on before the events are emitted, and later scans run with it."""
    write(tmp_path / "a.yaml", SVC % "a")
    src, enabled, events = FolderSource(tmp_path), [], []
    scan = src.scan
    monkeypatch.setattr(src, "scan", lambda **kw: enabled.append(gc.isenabled()) or scan(**kw))
    task = asyncio.create_task(src.run(lambda e: events.append((e, gc.isenabled()))))
    while len(enabled) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    assert enabled[:2] == [False, True]
    assert [(type(e).__name__, on) for e, on in events] == [("ObjectEvent", True),
                                                           ("Synced", True)]
    assert isinstance(events[-1][0], Synced)


async def test_the_first_scan_keeps_no_event_once_emitted(tmp_path: Path):
    """The source holds none of the first scan's events (they carry the raw objects) while
    it keeps scanning: the pipeline drops them once applied (270 MB at 50k per kind when the
    list stayed in run()'s frame)."""
    for name in ("a", "b"):
        write(tmp_path / f"{name}.yaml", SVC % name)
    src, events = FolderSource(tmp_path, interval=0.01), []
    task = asyncio.create_task(src.run(events.append))
    while not any(isinstance(e, Synced) for e in events):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # later scans ran: the coroutine is in its loop
    try:
        # held as an object only `events` holds is: no other holder
        alone = [object(), object()]
        assert [sys.getrefcount(e) for e in events[:2]] == [
            sys.getrefcount(o) for o in alone[:2]]
    finally:
        task.cancel()
