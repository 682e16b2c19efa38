"""A step's gate on Envoy's numbers (queries/rollout_gate.py): `/stats?format=json` parsing in
the shape Envoy 1.40 answers, differences over an interval, quantiles from disjoint
histogram buckets, and the verdicts."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from kubectl_contour.queries.rollout_gate import (
    FAIL,
    HOLD,
    PASS,
    WAIT,
    ClusterStats,
    Side,
    combine,
    covered_since,
    delta,
    judge,
    judge_envoys,
    parse_stats,
    quantile,
    stats_path,
)
from kubectl_contour.queries.rollout_state import Thresholds

LIMITS = Thresholds(interval=1.0, max_5xx=0.01, max_p99=500.0, min_requests=10)
BOUNDS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


def envoy_stats(counters: dict[str, int], buckets: dict[str, dict[float, int]]) -> dict[str, Any]:
    """What `/stats?format=json&histogram_buckets=disjoint` answers (Envoy 1.40)."""
    stats: list[dict[str, Any]] = [{"name": f"cluster.{k}", "value": v}
                                   for k, v in sorted(counters.items())]
    stats.append({"histograms": [
        {"name": f"cluster.{name}.upstream_rq_time",
         "buckets": [{"upper_bound": b, "interval": 0, "cumulative": counts.get(b, 0)}
                     for b in BOUNDS]} for name, counts in sorted(buckets.items())]})
    return {"stats": stats}


def test_parse_stats() -> None:
    doc = envoy_stats({"default_green_80.upstream_rq_total": 15,
                       "default_green_80.upstream_rq_5xx": 5,
                       "default_green_80.upstream_rq_completed": 15,
                       "default_green_80.upstream_rq_timeout": 0},
                      {"default_green_80": {500: 10, 5: 5}})
    found = parse_stats(doc)
    assert list(found) == ["default_green_80"]
    green = found["default_green_80"]
    assert (green.total, green.errors, green.completed, green.samples) == (15, 5, 15, 15)
    assert dict(green.buckets)[500.0] == 10


def test_stats_path_asks_for_exactly_the_gate_numbers() -> None:
    path = stats_path(["default_green_80", "default_blue_80"])
    query = urllib.parse.parse_qs(path.split("?", 1)[1])
    assert query["format"] == ["json"] and query["histogram_buckets"] == ["disjoint"]
    assert query["filter"] == [r"^cluster\.(default_blue_80|default_green_80)\."
                               r"(membership_total|upstream_rq_5xx|upstream_rq_completed|"
                               r"upstream_rq_time|upstream_rq_total)$"]


def test_a_cluster_that_served_nothing_yet_reads_as_zeros() -> None:
    """The default bootstrap defers a cluster's traffic counters to its first request: a
    cluster with only its membership stats is there, with nothing counted."""
    found = parse_stats(envoy_stats({"default_green_80.membership_total": 1}, {}))
    assert found == {"default_green_80": ClusterStats()}


def test_delta_and_combine() -> None:
    start = ClusterStats(10, 1, 10, ((5.0, 10),))
    end = ClusterStats(30, 4, 29, ((5.0, 25), (500.0, 4)))
    assert delta(end, start) == ClusterStats(20, 3, 19, ((5.0, 15), (500.0, 4)))
    restarted = ClusterStats(3, 0, 3, ((5.0, 3),))
    assert delta(restarted, start) == restarted  # an Envoy that restarted counts from zero
    assert delta(end, None) == end
    assert combine([end, restarted]) == ClusterStats(33, 4, 32, ((5.0, 28), (500.0, 4)))


@pytest.mark.parametrize(("buckets", "q", "value"), [
    pytest.param((), 0.99, None, id="no-samples"),
    pytest.param(((5.0, 100),), 0.99, 4.95, id="one-bucket-interpolated"),
    pytest.param(((1.0, 99), (1000.0, 1)), 0.99, 1.0, id="99-fast-1-slow"),
    pytest.param(((1.0, 98), (1000.0, 2)), 0.99, 500.5, id="2-percent-slow"),
    pytest.param(((0.5, 0), (500.0, 0), (1000.0, 10)), 0.99, 1000.0, id="all-slow"),
    pytest.param(((1.0, 50), (10.0, 50)), 0.5, 1.0, id="median"),
])
def test_quantile(buckets: tuple[tuple[float, int], ...], q: float, value: float | None) -> None:
    got = quantile(buckets, q)
    assert got == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize(("to", "source", "state", "reason"), [
    pytest.param(Side(100, 0, 3.0), Side(900, 0, 2.0), PASS, "", id="healthy"),
    pytest.param(Side(5, 5, 3.0), Side(900, 0, 2.0), WAIT, "5 of 10 requests on TO so far",
                 id="too-few-requests"),
    pytest.param(Side(100, 2, 3.0), Side(900, 0, 2.0), FAIL,
                 "5xx rate of TO 2.0% (2 of 100) > max 1.0%; FROM 0.0% (0 of 900)",
                 id="5xx"),
    pytest.param(Side(100, 1, 3.0), Side(900, 0, 2.0), PASS, "", id="5xx-at-the-threshold"),
    pytest.param(Side(100, 50, 3.0), Side(900, 450, 2.0), HOLD,
                 "5xx rate of TO 50.0% (50 of 100) > max 1.0%; FROM 50.0% (450 of 900)",
                 id="5xx-as-bad-as-from"),
    pytest.param(Side(100, 5, 3.0), Side(0, 0, None), FAIL,
                 "5xx rate of TO 5.0% (5 of 100) > max 1.0%; FROM - (0 of 0)",
                 id="5xx-from-idle"),
    pytest.param(Side(100, 0, 980.0), Side(900, 0, 2.0), FAIL,
                 "p99 of TO 980ms > max 500ms; FROM 2.0ms", id="slow"),
    pytest.param(Side(100, 0, 980.0), Side(900, 0, 990.0), HOLD,
                 "p99 of TO 980ms > max 500ms; FROM 990ms", id="slow-as-from"),
    pytest.param(Side(100, 0, None), Side(900, 0, 2.0), WAIT, "no latency samples of TO yet",
                 id="no-histogram-yet"),
    pytest.param(Side(100, 9, None), Side(900, 0, 2.0), FAIL,
                 "5xx rate of TO 9.0% (9 of 100) > max 1.0%; FROM 0.0% (0 of 900)",
                 id="fail-beats-wait"),
])
def test_judge(to: Side, source: Side, state: str, reason: str) -> None:
    verdict = judge(to, source, LIMITS)
    assert verdict.state == state
    assert verdict.reasons == ((reason,) if reason else ())


def test_without_a_latency_gate_p99_is_not_judged() -> None:
    no_p99 = Thresholds(1.0, 0.01, None, 10)
    assert judge(Side(100, 0, 9999.0), Side(900, 0, 2.0), no_p99).state == PASS


def test_judge_envoys_sums_the_envoys_and_takes_latency_from_the_covering_reading() -> None:
    names = {"to": ["g"], "from": ["b"]}
    start = {"e1": {"g": ClusterStats(0, 0, 0, ()), "b": ClusterStats(100, 0, 100, ((5.0, 100),))},
             "e2": {"b": ClusterStats(50, 0, 50, ((5.0, 50),))}}
    end = {"e1": {"g": ClusterStats(6, 0, 6, ()), "b": ClusterStats(150, 0, 150, ((5.0, 100),))},
           "e2": {"g": ClusterStats(6, 0, 6, ()), "b": ClusterStats(80, 0, 80, ((5.0, 50),))}}
    cover = {"e1": {"g": ClusterStats(7, 0, 7, ((1000.0, 7),)),
                    "b": ClusterStats(160, 0, 160, ((5.0, 160),))},
             "e2": {"g": ClusterStats(6, 0, 6, ((1000.0, 6),)),
                    "b": ClusterStats(80, 0, 80, ((5.0, 80),))}}
    assert not covered_since(end, start) and covered_since(end, cover)
    total, each = judge_envoys(start, end, cover, names, LIMITS)
    assert (total.state, total.to.requests, total.source.requests) == (FAIL, 12, 80)
    assert total.reasons == ("p99 of TO 1000ms > max 500ms; FROM 5.0ms",)
    assert sorted(each) == ["e1", "e2"]
    assert (each["e1"].to.requests, each["e2"].source.requests) == (6, 30)
