"""Re-reading a file parses only its changed documents, and the result is exactly a whole
parse's: generated YAML streams (block scalars holding `---`, comments, Lists, nameless and
invalid objects, duplicates), edited at random, compared after every edit."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.k8s.documents import parse_documents, yaml_document_texts
from controller.sources import folder_read
from controller.sources.folder_read import file_events, unpacked
from controller.sources.intake import admit_event

PATH = Path("/src/objects.yaml")


def whole(text: str) -> dict[Any, Any]:
    docs = parse_documents(text, json_file=False)
    events = [admit_event(d, source=str(PATH), fallback_name=f"{PATH}#{i}")
              for i, d in enumerate(docs)]
    return {e.key: e for e in events}


def service(rng: random.Random, i: int) -> Any:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": f"s{i}", "namespace": "default"},
                           "spec": {"ports": [{"port": rng.choice((80, 8080, 0))}]}}
    roll = rng.random()
    if roll < 0.1:
        del obj["metadata"]["name"]  # named by its index
    elif roll < 0.2:
        obj["metadata"]["annotations"] = {"note": "line one\n---\nnot a marker\n"}
    elif roll < 0.25:
        return {"apiVersion": "v1", "kind": "List", "items": [obj, dict(obj)]}
    return obj


def stream(rng: random.Random, docs: list[Any]) -> str:
    parts = []
    for d in docs:
        text = yaml.safe_dump(d, sort_keys=False)
        if rng.random() < 0.2:
            text = "# a comment\n" + text
        parts.append(text)
    return "---\n".join(parts) if rng.random() < 0.5 else "".join(
        f"---\n{p}" for p in parts)


@pytest.mark.parametrize("seed", range(30))
def test_pieces_equal_a_whole_parse_across_edits(seed: int) -> None:
    rng = random.Random(seed)
    docs = [service(rng, i) for i in range(rng.randint(1, 12))]
    previous = None
    for _ in range(8):
        text = stream(rng, docs)
        read = file_events(PATH, text, previous)
        previous = read.contents
        assert {key: read.event(key) for key in read.objects} == whole(text)
        assert {key: unpacked(key, k) for key, k in read.objects.items()} == whole(text)
        edit = rng.randrange(3)
        if edit == 0:
            docs[rng.randrange(len(docs))] = service(rng, rng.randrange(20))
        elif edit == 1:
            docs.insert(rng.randrange(len(docs) + 1), service(rng, rng.randrange(20)))
        elif len(docs) > 1:
            docs.pop(rng.randrange(len(docs)))


def test_one_edited_document_is_the_only_one_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": f"s{i}", "namespace": "default"},
             "spec": {"ports": [{"port": 80}]}} for i in range(50)]
    text = yaml.safe_dump_all(docs)
    pieces = file_events(PATH, text).contents
    docs[7]["spec"]["ports"][0]["port"] = 81
    calls: list[str] = []
    real = folder_read.parse_documents
    monkeypatch.setattr(folder_read, "parse_documents",
                        lambda t, *, json_file: calls.append(t) or real(t, json_file=json_file))
    read = file_events(PATH, yaml.safe_dump_all(docs), pieces)
    assert len(calls) == 1 and "s7" in calls[0]
    assert list(read.live) == [("Service", "default", "s7")]
    assert read.event(("Service", "default", "s7")).obj["spec"]["ports"][0]["port"] == 81


@pytest.mark.parametrize(("text", "pieces"), [
    ("a: 1\n", ["a: 1\n"]),
    ("---\na: 1\n---\nb: 2\n", ["---\na: 1\n", "---\nb: 2\n"]),
    ("a: |\n  x\n  ---\n---\nb: 2\n", ["a: |\n  x\n  ---\n", "---\nb: 2\n"]),
    ("a: 1\n---x: 2\n", ["a: 1\n---x: 2\n"]),
    ("%YAML 1.2\n---\na: 1\n", None),
    ("a: 1\n...\n---\nb: 2\n", None),
])
def test_yaml_document_texts(text: str, pieces: list[str] | None) -> None:
    assert yaml_document_texts(text) == pieces
