"""The fuzz loop: batches of generated files in and out of the source folder, and the six
invariants of issue 7 checked after every batch.

Per batch `i`: write its files, then a probe vhost (a new Service and cluster) written last;
the probe answering through Envoy is both the change-latency measurement (invariant 4) and
the barrier after which the controller has seen the batch. Then: the controller is alive
and /livez answers (1); no NACK in /debug/xds nor in Envoy's update_rejected counters (2);
the control vhosts' xDS bytes are unchanged and their traffic answers from the right
backend (3); every bad object is reported (5; a bad HTTPProxy by an `invalid` status whose
SpecError/Invalid error names the path at fault; an object a later file shadows is owed
no report). Batch `i - window` is removed afterwards and
checked gone one batch later. Memory (6) is measured after draining everything, against a
baseline taken after the warm-up batches.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from controller.faults import BUG_MARKER
from fuzzing import reports, xdsview
from fuzzing.cases import Batch, Expect, dump_yaml, make_batch
from fuzzing.world import NS, PLAIN_HOSTS, TLS_HOST, World, nacks, probe_objects

CONTROL_FQDNS = {*PLAIN_HOSTS, TLS_HOST}
CONTROL_CLUSTERS = tuple(f"{NS}/{s}/" for s in ("c0", "c1", "c2"))
PROBE_TIMEOUT = 30.0


@dataclass
class Failure:
    invariant: str
    batch: int
    detail: str
    reproducer: str = ""

    def render(self) -> str:
        return f"[{self.invariant}] batch {self.batch}: {self.detail}" + (
            f"\n    reproducer: {self.reproducer}" if self.reproducer else "")


@dataclass
class Settings:
    seed: int
    objects: int
    batch_objects: int = 20
    window: int = 2  # batches present at once
    latency_limit: float = 2.0
    warmup_batches: int = 3
    rss_tolerance_mb: float = 60.0
    rss_tolerance_ratio: float = 0.25
    max_failures_shown: int = 20


@dataclass
class Summary:
    objects: int = 0
    files: int = 0
    batches: int = 0
    crashes: int = 0
    nacks: int = 0
    unreported: int = 0
    false_rejections: int = 0
    softened: int = 0
    isolation: int = 0
    latency_failures: int = 0
    leftovers: int = 0
    bugs: int = 0
    latencies: list[float] = field(default_factory=list)
    phase_s: dict[str, float] = field(default_factory=dict)  # where the wall time went
    wall_s: float = 0.0
    rss: dict[str, float] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)  # the first ones of each invariant
    failure_counts: dict[str, int] = field(default_factory=dict)  # all of them

    @property
    def failed(self) -> bool:
        return bool(self.failure_counts)

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "objects": self.objects, "files": self.files, "batches": self.batches,
            "crashes": self.crashes, "nacks": self.nacks, "unreported": self.unreported,
            "false_rejections": self.false_rejections, "softened": self.softened,
            "isolation_failures": self.isolation,
            "latency_failures": self.latency_failures, "leftovers": self.leftovers,
            "bug_lines": self.bugs, "wall_s": round(self.wall_s, 1),
            "objects_per_s": round(self.objects / self.wall_s, 1) if self.wall_s else 0,
            "probe_latency_ms": {
                "p50": round(statistics.median(lat) * 1000) if lat else None,
                "p99": round(lat[int(len(lat) * 0.99)] * 1000) if lat else None,
                "max": round(lat[-1] * 1000) if lat else None},
            "rss_mb": self.rss,
            "phase_s": {k: round(v, 1) for k, v in sorted(self.phase_s.items())},
            "failures": dict(sorted(self.failure_counts.items())),
        }


def _repro(s: Settings, batch: int, e: Expect | None = None) -> str:
    cmd = f"python -m bench.fuzz --seed {s.seed} --batch {s.batch_objects} --replay {batch}"
    if e is None:
        return cmd
    obj = json.dumps(e.obj, default=str)
    obj = obj if len(obj) <= 600 else obj[:600] + f"... ({len(obj)} chars)"
    return f"{cmd}  # file {e.file}: {e.kind} {e.namespace}/{e.name} ({e.why}): {obj}"


def probe_file(index: int, drained: bool = False) -> str:
    """Where probe `index` is written: in the batch's own folder, after the batch's files.
    The folder source lists each folder in one go, so a scan that sees the probe has seen
    the whole batch. (In `control/` it could not: a scan that listed the root before the
    batch's folder existed, and `control/` after the probe was written, served the probe
    with the batch unread: 3 batches of 941 at 100k looked entirely unreported.)"""
    return f"control/probe-{index}-drain.yaml" if drained else f"b{index}/probe-{index}.yaml"


class Fuzzer:
    def __init__(self, world: World, settings: Settings,
                 say: Callable[[str], None] = print) -> None:
        self.w, self.s, self.say = world, settings, say
        self.summary = Summary()
        self.present: list[Batch] = []
        self.removed: list[int] = []  # removed batches not yet checked gone
        self.reports = reports.Reports()
        self.baseline_view: dict[str, bytes] = {}
        self.seen_nacks: set[tuple[str, str, str]] = set()
        self.envoy_rejected: dict[str, int] = {}
        self.https_names: set[str] = set()

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> Summary:
        started = time.monotonic()
        self.baseline_view = self.view().control
        index = 0
        while self.summary.objects < self.s.objects:
            self.batch(index)
            if index + 1 == self.s.warmup_batches:
                self.summary.rss["baseline"] = self.drained_rss(index + 1)
            index += 1
        self.summary.rss["final"] = self.drained_rss(index + 1)
        self.summary.rss["peak"] = self.w.rss_mb()[1]
        self.read_settled_pages()
        self.check_leftovers(index)
        self.check_memory(index)
        self.summary.wall_s = time.monotonic() - started
        return self.summary

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            spent = self.summary.phase_s
            spent[name] = spent.get(name, 0.0) + time.monotonic() - t0

    def batch(self, index: int) -> None:
        with self.phase("generate"):
            batch = make_batch(self.s.seed, index, self.s.batch_objects)
        with self.phase("write"):
            for rel, text in batch.files.items():
                self.w.write(rel, text)
        self.present.append(batch)
        self.summary.batches += 1
        self.summary.objects += len(batch.expects)
        self.summary.files += len(batch.files)
        with self.phase("probe"):
            ok = self.probe(index) and self.check_alive(index)
        if ok:
            with self.phase("nacks"):
                self.check_nacks(index)
            with self.phase("isolation"):
                self.check_isolation(index)
            with self.phase("reports"):
                self.check_reports(index, batch)
        while len(self.present) >= self.s.window:
            self.remove(self.present.pop(0))

    def remove(self, batch: Batch) -> None:
        for rel in batch.files:
            self.w.remove(rel)
        self.w.remove(probe_file(batch.index))
        self.removed.append(batch.index)

    def drained_rss(self, index: int) -> float:
        """Remove every hostile file, wait for a probe (the removal is processed) and a
        settling pause; the controller's RSS then."""
        while self.present:
            self.remove(self.present.pop(0))
        self.probe(index, drained=True)
        time.sleep(3)
        return self.w.rss_mb()[0]

    # -- invariants ---------------------------------------------------------------------------

    def fail(self, invariant: str, batch: int, detail: str, reproducer: str = "") -> None:
        """Record a failure; the first `max_failures_shown` of each invariant are printed
        (and kept) with their reproducer, the others only counted."""
        f = Failure(invariant, batch, detail, reproducer)
        counts = self.summary.failure_counts
        counts[invariant] = counts.get(invariant, 0) + 1
        if counts[invariant] <= self.s.max_failures_shown:
            self.summary.failures.append(f)
            self.say(f.render())

    def probe(self, index: int, drained: bool = False) -> bool:
        """Write probe `index`, wait until Envoy serves it (invariants 1 and 4)."""
        name = f"probe-{index}" + ("-drain" if drained else "")
        objs = probe_objects(index, self.w.backends["probe"])
        if drained:
            for o in objs:
                o["metadata"]["name"] = name
            objs[2]["spec"] = {"virtualhost": {"fqdn": f"{name}.control.fuzz"}, "routes": [
                {"match": "/", "services": [{"name": name, "port": 80}]}]}
        rel = probe_file(index, drained)
        t0 = time.monotonic()
        self.w.write(rel, dump_yaml(objs))
        host = f"{name}.control.fuzz"
        while time.monotonic() - t0 < PROBE_TIMEOUT:
            if not self.w.alive:
                break
            r = self.w.get(host)
            if r.status == 200 and r.backend == f"{NS}/probe:80":
                latency = time.monotonic() - t0
                if drained:
                    self.w.remove(rel)
                    return True
                self.summary.latencies.append(latency)
                if latency > self.s.latency_limit:
                    self.summary.latency_failures += 1
                    self.fail("4-latency", index, f"an unrelated new vhost took {latency:.2f}s "
                              f"(> {self.s.latency_limit}s) to reach Envoy", _repro(self.s, index))
                return True
            time.sleep(0.02)
        if self.w.alive:
            self.summary.latency_failures += 1
            self.fail("4-latency", index, f"an unrelated new vhost did not reach Envoy within "
                      f"{PROBE_TIMEOUT}s", _repro(self.s, index))
            return True
        return self.check_alive(index)

    def check_alive(self, index: int) -> bool:
        lines = self.w.new_log_lines()
        self.reports.read_log(lines)
        bugs = [line for line in lines if BUG_MARKER in line]
        if bugs:
            self.summary.bugs += len(bugs)
            self.fail("1-bug", index, "escaped exception(s): " + " | ".join(bugs[:3])[:1500],
                      _repro(self.s, index))
        livez = self.w.livez() if self.w.alive else "process exited"
        if livez is None:
            return True
        self.summary.crashes += 1
        tail = "\n      ".join(self.w.controller_tail(15).splitlines())
        self.fail("1-alive", index, f"controller not alive ({livez}); log tail:\n      {tail}",
                  _repro(self.s, index) + " (with the batch before it present)")
        for b in self.present:  # restart without what killed it
            for rel in b.files:
                self.w.remove(rel)
        self.present.clear()
        self.w.restart_controller()
        self.w.new_log_lines()
        return False

    def check_nacks(self, index: int) -> None:
        for key, line in nacks(self.w.debug("/debug/xds")):
            if key not in self.seen_nacks:
                self.seen_nacks.add(key)
                self.summary.nacks += 1
                self.fail("2-nack", index, line, _repro(self.s, index))
        rejected = self.w.envoy_rejections()
        grown = {k: v for k, v in rejected.items() if v > self.envoy_rejected.get(k, 0)}
        self.envoy_rejected = rejected
        if grown:
            self.summary.nacks += 1
            self.fail("2-nack", index, f"Envoy update_rejected grew: {grown}",
                      _repro(self.s, index))

    def view(self) -> xdsview.XdsView:
        return xdsview.fetch(f"127.0.0.1:{self.w.ports.xds}", CONTROL_FQDNS, CONTROL_CLUSTERS)

    def check_isolation(self, index: int) -> None:
        view = self.view()
        self.https_names = view.https_names
        diff = xdsview.differences(self.baseline_view, view.control)
        traffic = self.w.control_traffic_problems()
        if diff or traffic:
            self.summary.isolation += 1
            self.fail("3-isolation", index, "; ".join(diff + traffic)[:1500],
                      _repro(self.s, index))
            self.baseline_view = view.control  # report each change once

    def read_settled_pages(self) -> None:
        """Read the report pages once no source file is still being read: a large file is
        read off the controller's event loop, so the probe is no barrier for it."""
        deadline = time.monotonic() + PROBE_TIMEOUT
        sources = self.w.debug("/debug/sources")
        waited = False
        while sources.get("reading") and time.monotonic() < deadline:
            time.sleep(0.05)
            sources, waited = self.w.debug("/debug/sources"), True
        if waited:  # the landed read's events are queued; the pipeline applies them next
            time.sleep(0.3)
            sources = self.w.debug("/debug/sources")
        self.reports.read_pages(self.w.debug("/debug/status"), sources)

    def check_reports(self, index: int, batch: Batch) -> None:
        self.read_settled_pages()
        present = [e for b in self.present for e in b.expects]
        source_of = {e.file: self.w.path_of(e.file) for e in present}
        hidden = reports.shadowed(present, source_of)
        expects = [e for e in batch.expects if id(e) not in hidden]
        for e in reports.unreported(expects, source_of, self.reports):
            self.summary.unreported += 1
            self.fail("5-unreported", index, f"{e.verdict} {e.kind} {e.namespace}/{e.name}: "
                      f"{e.why}", _repro(self.s, index, e))
        for e in expects:
            problem = reports.status_problem(e, source_of[e.file], self.reports)
            if problem:
                self.summary.unreported += 1
                self.fail("5-status", index, f"bad HTTPProxy {e.namespace}/{e.name}: {problem}",
                          _repro(self.s, index, e))
        for e in reports.false_rejections(expects, source_of, self.reports):
            self.summary.false_rejections += 1
            self.say(f"[finding] batch {index}: valid {e.kind} {e.namespace}/{e.name} rejected: "
                     f"{_repro(self.s, index, e)}")
        for e in reports.softened(expects, source_of, self.reports):
            self.summary.softened += 1
            self.say(f"[finding] batch {index}: bad {e.kind} {e.namespace}/{e.name} only "
                     f"admitted with a warning: {_repro(self.s, index, e)}")
        for problem in reports.group_failures(batch.groups, self.reports, self.https_names):
            self.summary.unreported += 1
            self.fail("5-graph", index, problem, _repro(self.s, index))
        self.check_leftovers(index)

    def check_leftovers(self, index: int) -> None:
        gone, self.removed = self.removed, []
        for problem in reports.leftovers(self.reports, [f"b{i}-" for i in gone],
                                         [self.w.path_of(f"b{i}/") for i in gone]):
            self.summary.leftovers += 1
            self.fail("removal", index, problem, _repro(self.s, gone[0]))

    def check_memory(self, index: int) -> None:
        base, final = self.summary.rss.get("baseline"), self.summary.rss.get("final")
        if base is None or final is None:
            return
        limit = base + max(self.s.rss_tolerance_mb, base * self.s.rss_tolerance_ratio)
        if final > limit:
            self.fail("6-memory", index, f"RSS {final} MB after removing everything, baseline "
                      f"{base} MB (limit {limit:.0f} MB)")
