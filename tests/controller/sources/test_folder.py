"""The folder source: files in, object events out; bad files keep their last good objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.events import DELETE, UPSERT
from controller.sources.folder import FolderSource, ParseError, parse_documents

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


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(SVC % "a" + "---\n" + SVC % "b", ["a", "b"], id="multi-document"),
        pytest.param("---\n" + SVC % "a" + "---\n", ["a"], id="empty-documents-ignored"),
        pytest.param("apiVersion: v1\nkind: List\nitems:\n- " + (SVC % "a").replace("\n", "\n  "),
                     ["a"], id="list-flattened"),
    ],
)
def test_parse_documents(text, names):
    assert [o["metadata"]["name"] for o in parse_documents(text, json_file=False)] == names


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("kind: [unclosed", id="yaml-syntax"),
        pytest.param("- just\n- a list\n", id="not-an-object"),
        pytest.param("kind: Service\nmetadata: {}\n", id="no-name"),
    ],
)
def test_parse_documents_rejects(text):
    with pytest.raises(ParseError):
        parse_documents(text, json_file=False)


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
    (tmp_path / "x.json").write_text('{"kind": "Service", "metadata": {"name": "j"}}')
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
    import controller.sources.folder as folder

    monkeypatch.setattr(folder, "MAX_FILE_BYTES", 100)
    src = FolderSource(tmp_path)
    write(tmp_path / "a.yaml", SVC % "a")
    write(tmp_path / "big.yaml", SVC % "b" + "#" * 200 + "\n")
    assert ops(src.scan()) == [(UPSERT, "Service", "default", "a")]
    assert "more than the 100" in src.errors[str(tmp_path / "big.yaml")]
