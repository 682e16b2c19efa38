"""bench/memory.py: its grouping is right, and a tiny run reports what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import memory

ROOT = Path(memory.__file__).resolve().parents[1]
STORE = str(ROOT / "controller" / "dag" / "store.py")
VIEWS = str(ROOT / "controller" / "k8s" / "views.py")
LIB = "/venv/lib/python3.12/site-packages/google/protobuf/message.py"


def test_module_names_for_project_library_and_generated_code() -> None:
    assert memory.module_of(STORE) == "controller.dag.store"
    assert memory.module_of(LIB) == "google.protobuf.message"
    assert memory.module_of("/usr/lib/python3.12/json/decoder.py") == "decoder"
    assert memory.module_of("<string>") == "<string>"


def test_owner_is_the_innermost_project_frame() -> None:
    innermost_first = [("<string>", 3), (LIB, 10), (VIEWS, 42), (STORE, 7)]
    assert memory.owner(innermost_first) == (VIEWS, 42)
    assert memory.owner([(LIB, 10)]) == (LIB, 10)


def test_grouped_sums_and_sorts_largest_first() -> None:
    traces = [((STORE, 1), 100, 2), ((STORE, 2), 50, 1), ((VIEWS, 9), 120, 3),
              ((STORE, 1), 30, 1)]
    assert memory.grouped(traces, by_module=False) == [
        ("controller/dag/store.py:1", 130, 3), ("controller/k8s/views.py:9", 120, 3),
        ("controller/dag/store.py:2", 50, 1)]
    assert memory.grouped(traces, by_module=True) == [
        ("controller.dag.store", 180, 4), ("controller.k8s.views", 120, 3)]


def test_a_small_traced_run_reports_the_loaded_objects(tmp_path: Path) -> None:
    out_file = tmp_path / "m.jsonl"
    memory.main(["--n", "30", "--kind", "httpproxy", "--top", "5", "--json", str(out_file)])
    out = json.loads(out_file.read_text())
    assert out["objects"]["HTTPProxy"] == 45 and out["objects"]["Service"] == 30
    assert out["traced_mb"] > 0 and out["rss_mb"] > 0
    assert len(out["top_modules"]) == 5
    assert all(row[1] >= 0 and row[2] > 0 for row in out["top_project_lines"])


def test_ingress_workload() -> None:
    out = memory.measure(20, "ingress", endpoints="slices", trace=False)
    assert out["objects"]["Ingress"] == 20 and "traced_mb" not in out


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_folder_source_workload(fmt: str) -> None:
    """--source folder: the objects written to files and read by the folder source."""
    out = memory.measure(20, "httpproxy", trace=False, source="folder", fmt=fmt)
    assert out["objects"]["HTTPProxy"] == 30 and out["objects"]["Service"] == 20
    assert (out["source"], out["format"]) == ("folder", fmt)
