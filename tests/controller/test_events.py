"""The pipeline: one rebuild per batch, nothing published before every source synced."""

from __future__ import annotations

import time

import pytest

from controller import events
from controller.dag.model import DAG
from controller.events import ObjectEvent, Pipeline, Synced


class Recorder:
    def __init__(self, *, routing=True, endpoints=True, fail=False):
        self.calls: list[str] = []
        self.routing, self.endpoints, self.fail = routing, endpoints, fail

    def pipeline(self, sources=1) -> Pipeline:
        return Pipeline(apply_object=self.obj, apply_endpoints=self.eps,
                        record=lambda e: False, rebuild=self.rebuild,
                        publish_endpoints=lambda: self.calls.append("eds"),
                        on_ready=lambda: self.calls.append("ready"), expected_sources=sources)

    def obj(self, e):
        if e.name == "boom":
            raise ValueError("malformed")
        self.calls.append(f"obj:{e.name}")
        return self.routing

    def eps(self, e):
        self.calls.append(f"eps:{e.name}")
        return self.endpoints

    def rebuild(self):
        self.calls.append("build")
        if self.fail:
            raise RuntimeError("bug")
        return DAG()


SVC = {"kind": "Service", "metadata": {"name": "a", "namespace": "default"}}
EPS = {"kind": "Endpoints", "metadata": {"name": "a", "namespace": "default"}}


def test_nothing_published_until_all_sources_synced():
    r = Recorder()
    p = r.pipeline(sources=2)
    p.process([ObjectEvent.upsert(SVC), Synced("folder")])
    assert r.calls == ["obj:a"]
    p.process([Synced("cluster")])
    assert r.calls == ["obj:a", "eds", "build", "ready"]
    assert p.ready.is_set()


def test_a_batch_rebuilds_once():
    r = Recorder()
    p = r.pipeline()
    p.process([Synced("folder")])
    r.calls.clear()
    p.process([ObjectEvent.upsert(SVC), ObjectEvent.upsert(SVC), ObjectEvent.upsert(EPS)])
    assert r.calls == ["obj:a", "obj:a", "eps:a", "eds", "build"]


def test_unchanged_objects_do_not_rebuild():
    r = Recorder(routing=False, endpoints=False)
    p = r.pipeline()
    p.process([Synced("folder")])
    r.calls.clear()
    p.process([ObjectEvent.upsert(SVC)])
    assert r.calls == ["obj:a"]


@pytest.mark.provokes_bug
def test_a_broken_object_or_build_is_not_fatal():
    r = Recorder(fail=True)
    p = r.pipeline()
    bad = {"kind": "Service", "metadata": {"name": "boom"}}
    p.process([ObjectEvent.upsert(bad), Synced("folder")])
    assert r.calls == ["eds", "build", "ready"]
    assert p.stats.builds == 1


def test_memory_is_released_after_mass_removals_only():
    from controller.events import TRIM_AFTER_REMOVALS

    released: list[int] = []
    r = Recorder()
    p = Pipeline(apply_object=r.obj, apply_endpoints=r.eps, record=lambda e: False,
                 rebuild=r.rebuild, publish_endpoints=lambda: None, on_ready=lambda: None,
                 release_memory=lambda: released.append(1))
    p.process([Synced("folder")])
    p.process([ObjectEvent.upsert(SVC)] * TRIM_AFTER_REMOVALS)
    assert released == []
    p.process([ObjectEvent.delete("Service", "default", f"s{i}")
               for i in range(TRIM_AFTER_REMOVALS - 1)])
    assert released == []
    p.process([ObjectEvent.reject("Service", "default", "x", source="f", reasons=("bad",))])
    assert released == [1]



class SlowRecorder(Recorder):
    def obj(self, e):
        if e.name == "slow":
            time.sleep(0.06)
        return super().obj(e)


def test_a_slow_batch_names_its_slowest_object(caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch):
    """Every change waits for a slow batch (one event loop), so its log line says who."""
    monkeypatch.setattr(events, "SLOW_BATCH_SECONDS", 0.05)
    p = SlowRecorder().pipeline()
    p.process([Synced("folder")])
    slow = {"kind": "Service", "metadata": {"name": "slow", "namespace": "team"}}
    caplog.clear()
    p.process([ObjectEvent.upsert(SVC)])
    assert "slow batch" not in caplog.text
    p.process([ObjectEvent.upsert(SVC), ObjectEvent.upsert(slow, source="f.yaml")])
    assert "slow batch: 2 events" in caplog.text
    assert "the slowest Service team/slow from f.yaml" in caplog.text
