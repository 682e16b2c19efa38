"""What the folder source keeps of a file: each object marshalled (folder_read.Kept), each
document by its digest, and no parsed dicts; a rewrite still emits exactly what changed."""

from __future__ import annotations

import datetime
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.events import UPSERT, ObjectEvent
from controller.sources import folder_read
from controller.sources.folder import FolderSource
from controller.sources.folder_read import FileRead, file_events, kept, same, unpacked

KEY = ("Service", "default", "s")


def service(i: int, port: int = 80) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"s{i}", "namespace": "default"},
            "spec": {"ports": [{"port": port}]}}


def write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_one_document_edited_in_500_upserts_exactly_that_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [service(i) for i in range(500)]
    path = tmp_path / "services.yaml"
    write(path, yaml.safe_dump_all(docs, explicit_start=True))
    src = FolderSource(tmp_path)
    assert len(src.scan()) == 500
    contents = src.files[path].contents
    assert len(contents.keys) == 500 and len(contents.digests) == 500 * 16
    assert all(isinstance(k.packed, bytes) for k in contents.kept)  # no parsed dicts kept
    docs[321]["spec"]["ports"][0]["port"] = 81
    parsed: list[str] = []
    real = folder_read.parse_documents
    monkeypatch.setattr(folder_read, "parse_documents",
                        lambda t, *, json_file: parsed.append(t) or real(t, json_file=json_file))
    write(path, yaml.safe_dump_all(docs, explicit_start=True))
    (event,) = src.scan()
    assert (event.op, event.name, event.obj) == (UPSERT, "s321", docs[321])
    assert len(parsed) == 1
    docs.insert(0, docs.pop(321))  # a move within the file is no change
    write(path, yaml.safe_dump_all(docs, explicit_start=True))
    assert src.scan() == [] and len(parsed) == 1


def test_a_key_falling_back_to_an_unread_file_is_unpacked(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", yaml.safe_dump(service(1, 80)))
    write(tmp_path / "b.yaml", yaml.safe_dump(service(1, 81)))
    src = FolderSource(tmp_path)
    (first,) = src.scan()
    assert first.obj == service(1, 81) and first.source == str(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").unlink()
    (back,) = src.scan()  # a.yaml was not re-read: its object comes from its Kept
    assert (back.op, back.obj, back.source) == (UPSERT, service(1, 80), str(tmp_path / "a.yaml"))


def upsert(obj: dict[str, Any], source: str = "f") -> ObjectEvent:
    return ObjectEvent.upsert(obj, source=source)


def test_kept_round_trips_and_compares_as_objects() -> None:
    event = upsert(service(1))
    assert unpacked(event.key, kept(event)) == event
    as_float = service(1)
    as_float["spec"]["ports"][0]["port"] = 80.0  # other bytes, an equal object
    assert kept(upsert(as_float)).packed != kept(event).packed
    assert same(kept(event), kept(upsert(as_float)))
    assert not same(kept(event), kept(upsert(service(1, 81))))
    assert same(kept(event), kept(upsert(service(1), source="elsewhere")))  # a moved file
    reject = ObjectEvent.reject(*KEY, source="a", reasons=("bad",))
    assert not same(kept(reject), kept(ObjectEvent.reject(*KEY, source="b", reasons=("bad",))))


def test_a_value_marshal_refuses_is_kept_as_parsed() -> None:
    obj = service(1)
    obj["spec"]["when"] = datetime.date(2026, 1, 1)  # YAML's timestamps; marshal refuses
    event = upsert(obj)
    assert kept(event).packed is obj and unpacked(event.key, kept(event)) == event
    assert same(kept(event), kept(upsert(dict(obj))))


def test_a_read_crosses_a_process_boundary_compact() -> None:
    read = file_events(Path("/src/a.yaml"), yaml.safe_dump_all([service(1), service(2)]))
    assert len(read.live) == 2
    back = pickle.loads(pickle.dumps(read))
    assert isinstance(back, FileRead) and back.live == {}
    assert {k: back.event(k) for k in back.objects} == {k: read.event(k) for k in read.objects}
    assert back.contents == read.contents
