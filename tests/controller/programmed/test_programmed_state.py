"""The programmed rule, table-driven: which nodes serve content needing some serials, and
the HTTPProxy condition that says so."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest

from controller.dag.model import Condition, Status
from controller.programmed.conditions import programmed_condition, to_write, with_programmed
from controller.programmed.state import PROGRAMMED_TYPES, Programmed, merged, on_nodes

CDS, SDS, LDS, RDS, SRDS = PROGRAMMED_TYPES


@dataclass
class FakeNack:
    type_url: str
    message: str


@dataclass
class FakeNode:
    node_id: str
    held: dict[str, int]
    connected: bool = True
    rejecting: set[str] = field(default_factory=set)
    nacks: deque[FakeNack] = field(default_factory=deque)
    asked: set[str] = field(default_factory=lambda: set(PROGRAMMED_TYPES))


def node(name: str, cds: int = 0, sds: int = 0, lds: int = 0, rds: int = 0,
         srds: int | None = None, **kw: object) -> FakeNode:
    held = {CDS: cds, SDS: sds, LDS: lds, RDS: rds, SRDS: rds if srds is None else srds}
    return FakeNode(name, held, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("nodes", "required", "served", "pending"), [
    pytest.param([node("a", 5, 5, 5, 5)], (5, 5, 5, 5, 5), ["a"], [], id="holds-exactly"),
    pytest.param([node("a", 9, 9, 9, 9)], (5, 5, 5, 5, 5), ["a"], [], id="holds-newer"),
    pytest.param([node("a", 5, 5, 5, 4)], (5, 5, 5, 5, 5), [], [("a", "stale")], id="one-type-old"),
    pytest.param([node("b", 5, 5, 5, 5), node("a", 1, 1, 1, 1)], (5, 5, 5, 5, 5), ["b"],
                 [("a", "stale")], id="k-of-n-sorted"),
    pytest.param([node("a", 1, 1, 1, 1, connected=False)], (5, 5, 5, 5, 5), [], [],
                 id="disconnected-not-counted"),
    pytest.param([node("a", 5, 5, 4, 5, rejecting={LDS},
                       nacks=deque([FakeNack(LDS, "bad listener")]))], (5, 5, 5, 5, 5), [],
                 [("a", "NACKed: bad listener")], id="nacked"),
    pytest.param([node("a", 5, 5, 5, 5, rejecting={LDS},
                       nacks=deque([FakeNack(LDS, "bad listener")]))], (5, 5, 5, 5, 5), ["a"], [],
                 id="nack-of-later-content-keeps-what-it-holds"),
    pytest.param([node("a", 5, 5, 5, 5, srds=0, asked={CDS, SDS, LDS, RDS})], (5, 5, 5, 5, 5),
                 ["a"], [], id="scopes-never-asked-for-are-not-waited-for"),
    pytest.param([node("a", 5, 5, 5, 0, srds=5, asked={CDS, SDS, LDS, SRDS})], (5, 5, 5, 5, 5),
                 ["a"], [], id="tables-never-asked-for-are-not-waited-for"),
    pytest.param([node("a", 5, 5, 5, 5, srds=4)], (5, 5, 5, 5, 5), [], [("a", "stale")],
                 id="scopes-asked-for-are-waited-for"),
    pytest.param([node("a", 5, 5, 0, 5, asked={CDS, SDS, RDS, SRDS})], (5, 5, 5, 5, 5), [],
                 [("a", "stale")], id="listeners-are-waited-for-always"),
])
def test_on_nodes(nodes: list[FakeNode], required: tuple[int, ...], served: list[str],
                  pending: list[tuple[str, str]]) -> None:
    state = on_nodes(nodes, required, 3, None)
    assert (list(state.served), list(state.pending)) == (served, pending)


def test_merged_is_elementwise_max() -> None:
    assert merged([(1, 5, 0, 2, 1), (3, 1, 0, 2, 0)]) == (3, 5, 0, 2, 1)
    assert merged([]) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(("state", "status", "reason", "message"), [
    pytest.param(Programmed(("a", "b"), (), 2, 1.0), "True", "Programmed",
                 "served by 2/2 Envoys", id="programmed"),
    pytest.param(Programmed(("a",), (("b", "stale"),), 2), "False", "Pending",
                 "served by 1/2 Envoys; b: stale", id="pending"),
    pytest.param(Programmed((), (("b", "NACKed: x"),), 2), "False", "Rejected",
                 "served by 0/1 Envoys; b: NACKed: x", id="rejected"),
    pytest.param(Programmed(), "False", "NoEnvoys", "no Envoy is connected", id="no-envoys"),
    pytest.param(Programmed(reason="not valid (invalid)"), "False", "NotValid",
                 "not valid (invalid)", id="not-valid"),
])
def test_programmed_condition(state: Programmed, status: str, reason: str,
                              message: str) -> None:
    cond = programmed_condition(state)
    assert (cond.type, cond.status, cond.reason, cond.message) == (
        "Programmed", status, reason, message)


def test_with_programmed_adds_to_httpproxies_only_and_replaces() -> None:
    valid = Condition("Valid", "True", "Valid", "Valid HTTPProxy")
    old = Condition("Programmed", "False", "Pending", "served by 0/1 Envoys")
    proxy = Status("ns", "p", "valid", "Valid HTTPProxy", kind="HTTPProxy",
                   conditions=(valid, old))
    route = Status("ns", "r", "valid", "valid IngressRoute")
    states = {("HTTPProxy", "ns", "p"): Programmed(("a",), (), 1, 1.0),
              ("IngressRoute", "ns", "r"): Programmed(("a",), (), 1, 1.0)}
    out = with_programmed((proxy, route), states)
    assert out[1] is route
    assert [(c.type, c.status) for c in out[0].conditions] == [("Valid", "True"),
                                                               ("Programmed", "True")]


@pytest.mark.parametrize(("state", "now", "written"), [
    pytest.param(Programmed(generation=4, unserved_since=100.0), 105.0, "",
                 id="no-envoy-yet-after-a-restart"),
    pytest.param(Programmed((), (("a", "stale"),), 4, unserved_since=100.0), 109.0, "",
                 id="a-reconnecting-envoy-or-a-new-generation"),
    pytest.param(Programmed(generation=4, unserved_since=100.0), 111.0, "NoEnvoys",
                 id="grace-over"),
    pytest.param(Programmed((), (("a", "stale"),), 4, unserved_since=100.0), 110.5,
                 "Pending", id="stale-past-the-grace"),
    pytest.param(Programmed((), (("a", "NACKed: bad"),), 4, unserved_since=100.0), 101.0,
                 "Rejected", id="nacked"),
    pytest.param(Programmed(generation=4, unserved_since=100.0, reason="not valid (invalid)"),
                 101.0, "NotValid", id="not-valid"),
    pytest.param(Programmed(("a",), (), 4, 100.0), 101.0, "Programmed", id="served"),
])
def test_an_httpproxy_waiting_for_its_envoys_is_not_written_within_the_grace(
        state: Programmed, now: float, written: str) -> None:
    """to_write leaves out a valid HTTPProxy that has waited for its Envoys (not NACKed)
    less than GRACE_SECONDS: its stored status stands; an IngressRoute is always written."""
    proxy = Status("ns", "p", "valid", "Valid HTTPProxy", kind="HTTPProxy",
                   conditions=(Condition("Valid", "True", "Valid", "Valid HTTPProxy"),))
    route = Status("ns", "r", "valid", "valid IngressRoute")
    states = {("HTTPProxy", "ns", "p"): state, ("IngressRoute", "ns", "r"): state}
    out = to_write((proxy, route), states, now)
    assert out[-1] is route
    assert [s.conditions[-1].reason for s in out[:-1]] == ([written] if written else [])
