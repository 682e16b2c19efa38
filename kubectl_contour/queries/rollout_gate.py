"""A rollout step's gate, judged on Envoy's own numbers: per-cluster counters and the
upstream request-time histogram from each Envoy's `/stats?format=json`, differenced over the
step's interval, summed over the Envoys, for TO's clusters against the thresholds and
against FROM's clusters over the same interval.

Counters are read live; histograms are what Envoy merged at its last stats flush (every 5 s
by default), so `covered()` tells whether a histogram already holds the requests counted."""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from kubectl_contour.queries.rollout_state import Thresholds

PASS, HOLD, FAIL, WAIT = "pass", "hold", "fail", "wait"
COUNTERS = {"upstream_rq_total": "total", "upstream_rq_5xx": "errors",
            "upstream_rq_completed": "completed"}
HISTOGRAM = "upstream_rq_time"
PRESENCE = "membership_total"
"""Created with the cluster, even where Envoy defers the traffic counters to the first request
(the default bootstrap): a cluster that reports only this has served nothing yet."""


@dataclass(frozen=True, slots=True)
class ClusterStats:
    """One cluster's numbers on one Envoy (since it started, or over an interval)."""

    total: int = 0
    errors: int = 0
    completed: int = 0
    buckets: tuple[tuple[float, int], ...] = ()
    """(upper bound in ms, samples in the bucket), bounds ascending."""

    @property
    def samples(self) -> int:
        return sum(n for _, n in self.buckets)


def stats_path(names: Iterable[str]) -> str:
    """The admin path that answers exactly the counters and histograms the gate reads."""
    alternatives = "|".join(sorted(n.replace(".", r"\.") for n in names))
    wanted = "|".join(sorted([*COUNTERS, HISTOGRAM, PRESENCE]))
    regex = f"^cluster\\.({alternatives})\\.({wanted})$"
    return "/stats?" + urllib.parse.urlencode(
        {"format": "json", "histogram_buckets": "disjoint", "filter": regex})


def parse_stats(doc: dict[str, object]) -> dict[str, ClusterStats]:
    """`/stats?format=json&histogram_buckets=disjoint` → stat name → ClusterStats, for every
    cluster the reading mentions (absent counters are 0)."""
    values: dict[str, dict[str, int]] = {}
    buckets: dict[str, tuple[tuple[float, int], ...]] = {}
    for item in doc.get("stats") or []:  # type: ignore[attr-defined]
        if "histograms" in item:
            for hist in item["histograms"] or []:
                name, _, metric = str(hist.get("name", "")).removeprefix("cluster.").rpartition(".")
                if metric == HISTOGRAM:
                    buckets[name] = tuple(sorted((float(b["upper_bound"]), int(b["cumulative"]))
                                                 for b in hist.get("buckets") or []))
            continue
        name, _, metric = str(item.get("name", "")).removeprefix("cluster.").rpartition(".")
        if metric in COUNTERS:
            values.setdefault(name, {})[COUNTERS[metric]] = int(item.get("value") or 0)
        elif metric == PRESENCE:
            values.setdefault(name, {})
    return {n: ClusterStats(**values.get(n, {}), buckets=buckets.get(n, ()))
            for n in sorted({*values, *buckets})}


def delta(end: ClusterStats, start: ClusterStats | None) -> ClusterStats:
    """What happened between two readings; an Envoy that restarted in between (its
    counters went down) counts from zero."""
    if start is None or end.total < start.total:
        return end
    before = dict(start.buckets)
    return ClusterStats(end.total - start.total, end.errors - start.errors,
                        end.completed - start.completed,
                        tuple((b, max(0, n - before.get(b, 0))) for b, n in end.buckets))


def combine(stats: Iterable[ClusterStats]) -> ClusterStats:
    """Several clusters or Envoys summed into one."""
    total = errors = completed = 0
    buckets: dict[float, int] = {}
    for s in stats:
        total, errors, completed = total + s.total, errors + s.errors, completed + s.completed
        for bound, n in s.buckets:
            buckets[bound] = buckets.get(bound, 0) + n
    return ClusterStats(total, errors, completed, tuple(sorted(buckets.items())))


def quantile(buckets: tuple[tuple[float, int], ...], q: float) -> float | None:
    """The q-quantile (0..1) in ms, interpolated linearly within its bucket as Envoy does;
    None without samples."""
    count = sum(n for _, n in buckets)
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen, lower = 0, 0.0
    for bound, n in buckets:
        if n and seen + n >= rank:
            return lower + (bound - lower) * (rank - seen) / n
        seen, lower = seen + n, bound
    return lower


@dataclass(frozen=True, slots=True)
class Side:
    """FROM's or TO's numbers over a step's interval."""

    requests: int
    errors: int
    p99: float | None

    @property
    def rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


def side(stats: ClusterStats) -> Side:
    return Side(stats.total, stats.errors, quantile(stats.buckets, 0.99))


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str
    """PASS, HOLD (TO is over a threshold but FROM is as bad: not TO's doing, measure
    again), FAIL (abort) or WAIT (not enough requests or latency samples yet)."""
    to: Side
    source: Side
    reasons: tuple[str, ...] = field(default=())


def judge(to: Side, source: Side, limits: Thresholds) -> Verdict:
    """The gate: TO's 5xx rate and p99 against the thresholds, then against FROM."""
    if to.requests < limits.min_requests:
        return Verdict(WAIT, to, source, (f"{to.requests} of {limits.min_requests} requests "
                                          "on TO so far",))
    found = [error_gate(to, source, limits)]
    if limits.max_p99 is not None:
        found.append(latency_gate(to, source, limits.max_p99))
    for state in (FAIL, HOLD, WAIT):
        reasons = tuple(r for s, r in found if s == state)
        if reasons:
            return Verdict(state, to, source, reasons)
    return Verdict(PASS, to, source)


def error_gate(to: Side, source: Side, limits: Thresholds) -> tuple[str, str]:
    rate = to.rate or 0.0
    if rate <= limits.max_5xx:
        return PASS, ""
    text = (f"5xx rate of TO {percent(rate)} ({to.errors} of {to.requests}) > max "
            f"{percent(limits.max_5xx)}; FROM {percent(source.rate)} "
            f"({source.errors} of {source.requests})")
    worse = source.rate is None or rate > source.rate
    return (FAIL if worse else HOLD), text


def latency_gate(to: Side, source: Side, max_p99: float) -> tuple[str, str]:
    if to.p99 is None:
        return WAIT, "no latency samples of TO yet"
    if to.p99 <= max_p99:
        return PASS, ""
    text = f"p99 of TO {ms(to.p99)} > max {ms(max_p99)}; FROM {ms(source.p99)}"
    worse = source.p99 is None or to.p99 > source.p99
    return (FAIL if worse else HOLD), text


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def ms(value: float | None) -> str:
    """Milliseconds, with a decimal below 10 ms (a local backend answers in 0.3 ms)."""
    if value is None:
        return "-"
    return f"{value:.1f}ms" if value < 10 else f"{value:.0f}ms"


Readings = dict[str, dict[str, ClusterStats]]
"""Envoy → stat name → its numbers since the Envoy started."""


def between(start: dict[str, ClusterStats], end: dict[str, ClusterStats],
            cover: dict[str, ClusterStats], names: Iterable[str]) -> ClusterStats:
    """One side's clusters on one Envoy between two readings: counters from `end`, the
    histogram from `cover` (a reading whose histograms hold `end`'s requests)."""
    def at_end(name: str) -> ClusterStats:
        stats = end[name]
        later = cover.get(name, stats)
        return ClusterStats(stats.total, stats.errors, stats.completed, later.buckets)

    return combine(delta(at_end(n), start.get(n)) for n in names if n in end)


def judge_envoys(start: Readings, end: Readings, cover: Readings, names: dict[str, list[str]],
                 limits: Thresholds) -> tuple[Verdict, dict[str, Verdict]]:
    """The gate on every Envoy's numbers summed, and each Envoy's own numbers judged (for
    the display: one Envoy alone rarely has --min-requests)."""
    sums: dict[str, list[ClusterStats]] = {"to": [], "from": []}
    each: dict[str, Verdict] = {}
    for envoy in sorted(end):
        for which, found in sums.items():
            found.append(between(start.get(envoy, {}), end[envoy], cover.get(envoy, {}),
                                 names[which]))
        each[envoy] = judge(side(sums["to"][-1]), side(sums["from"][-1]), limits)
    total = judge(side(combine(sums["to"])), side(combine(sums["from"])), limits)
    return total, each


def covered_since(end: Readings, later: Readings) -> bool:
    """`later`'s histograms hold every request `end`'s counters had completed."""
    return all(later.get(envoy, {}).get(name, ClusterStats()).samples >= stats.completed
               for envoy, found in end.items() for name, stats in found.items())
