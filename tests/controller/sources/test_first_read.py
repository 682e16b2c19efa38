"""The first scan read by two (controller/sources/first_read.py): every file read exactly
once, by the thread or the helper process, nothing lost when the helper fails, and a reader
started before the imports is the one the folder source's first scan uses."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

import pytest

from controller.sources import first_read
from controller.sources.first_read import prestarted_reader, read_all
from controller.sources.folder import FolderSource


def size_of(path: Path, stamp: tuple[int, int, int]) -> tuple[str, int]:
    return path.name, stamp[1]


def todo(n: int) -> list[tuple[Path, tuple[int, int, int]]]:
    return [(Path(f"f{i:03}.yaml"), (0, 100, i)) for i in range(n)]


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_read, "PARALLEL_BYTES", 1000)


def test_both_readers_together_read_each_file_once() -> None:
    work = todo(200)
    got = read_all(work, size_of, helper=lambda: ThreadPoolExecutor(1))
    assert got == {p: (p.name, 100) for p, _ in work}


def test_the_spawned_helper_reads_as_the_thread_does() -> None:
    work = todo(400)
    assert read_all(work, size_of) == {p: (p.name, 100) for p, _ in work}


class Broken(ThreadPoolExecutor):
    def submit(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise RuntimeError("the helper is gone")


def failing(path: Path, stamp: tuple[int, int, int]) -> tuple[str, int]:
    import threading

    if threading.current_thread() is not threading.main_thread():
        raise OSError("the helper failed this file")
    return size_of(path, stamp)


@pytest.mark.parametrize(("helper", "read"), [
    (lambda: Broken(1), size_of),  # cannot submit
    (lambda: ThreadPoolExecutor(1), failing),  # every helper read fails: done again here
    (lambda: (_ for _ in ()).throw(OSError("no processes")), size_of),  # cannot start
], ids=["broken pool", "failing reads", "no helper"])
def test_nothing_is_lost_when_the_helper_fails(helper: object, read: object) -> None:
    work = todo(50)
    got = read_all(work, read, helper=helper)  # type: ignore[arg-type]
    assert got == {p: (p.name, 100) for p, _ in work}


def test_a_small_first_scan_is_read_by_the_thread_alone() -> None:
    def no_helper() -> Executor:
        raise AssertionError("no helper for a small scan")

    assert len(read_all(todo(5), size_of, helper=no_helper)) == 5


def loaded(module: str) -> bool:
    import sys

    return module in sys.modules


def test_a_prestarted_reader_comes_with_its_module_imported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x" * 999)
    (tmp_path / ".hidden.yaml").write_text("x" * 5000)  # not read, so not counted
    assert prestarted_reader(tmp_path, "controller.sources.cluster") is None
    (tmp_path / "b.json").write_text("x")  # 1,000 bytes: worth a reader
    for module, expected in (("controller.sources.cluster", True), ("", False)):
        pool = prestarted_reader(tmp_path, module or "json")
        assert pool is not None
        try:  # the control: a reader not asked for the module has not imported it
            assert pool.submit(loaded, "controller.sources.cluster").result(60) is expected
        finally:
            pool.shutdown()


class Counting(ThreadPoolExecutor):
    submitted = 0

    def submit(self, *args: object, **kwargs: object):  # type: ignore[override]
        self.submitted += 1
        return super().submit(*args, **kwargs)  # type: ignore[arg-type]


def test_the_first_scan_reads_on_the_prestarted_reader_then_shuts_it(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"s{i:02}.yaml").write_text(
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: d}}\n"
            "spec: {ports: [{port: 80}]}\n")
    pool = Counting(1)
    source = FolderSource(tmp_path, first_reader=pool)
    assert sorted(e.name for e in source.scan(inline=True)) == sorted(f"s{i}" for i in range(20))
    assert pool.submitted >= 1 and source.first_reader is None
    with pytest.raises(RuntimeError):  # shut down: a later scan cannot use it
        pool.submit(print)
