"""The tracker over DAGs with provenance: only the hosts a build changed need the new
serials, objects map to hosts through provenance, and `since` is kept per generation."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from controller.dag import model as m
from controller.programmed.hosts import object_hosts
from controller.programmed.state import PROGRAMMED_TYPES
from controller.programmed.tracker import ProgrammedTracker

SVC = m.ServicePort("default", "s", 80)


@dataclass
class FakeNode:
    node_id: str
    held: dict[str, int]
    connected: bool = True
    rejecting: set[str] = field(default_factory=set)
    nacks: deque[object] = field(default_factory=deque)
    asked: set[str] = field(default_factory=lambda: set(PROGRAMMED_TYPES))


def holding(serial: int, name: str = "envoy") -> FakeNode:
    return FakeNode(name, {t: serial for t in PROGRAMMED_TYPES})


def route(match: str, *chain: tuple[str, str], kind: str = "IngressRoute") -> m.Route:
    return m.Route(match, (m.Cluster(SVC),), provenance=m.Provenance(kind, tuple(chain)))


def dag(*hosts: str) -> m.DAG:
    vhosts = tuple(m.VirtualHost(h, (route("/", ("default", f"root-{h}"),
                                              ("default", f"child-{h}")),))
                   for h in hosts)
    statuses = tuple(m.Status("default", f"{who}-{h}", "valid", "valid IngressRoute",
                              h if who == "root" else "")
                     for h in hosts for who in ("root", "child"))
    return m.DAG(http=vhosts, statuses=statuses)


def serials(n: int) -> dict[str, int]:
    return {t: n for t in PROGRAMMED_TYPES}


def test_object_hosts_follow_the_provenance_chain() -> None:
    built = dag("a.com", "b.com")
    assert object_hosts(built) == {
        ("IngressRoute", "default", "child-a.com"): frozenset({"a.com"}),
        ("IngressRoute", "default", "child-b.com"): frozenset({"b.com"}),
        ("IngressRoute", "default", "root-a.com"): frozenset({"a.com"}),
        ("IngressRoute", "default", "root-b.com"): frozenset({"b.com"}),
    }


def test_only_changed_hosts_need_the_new_serials() -> None:
    tracker = ProgrammedTracker(clock=lambda: 100.0)
    built = dag("a.com", "b.com")
    tracker.built(built, built.statuses, None, serials(3), {})
    assert all(s.programmed for s in tracker.evaluate([holding(3)]).values())
    tracker.built(built, built.statuses, {"b.com"}, serials(7), {})
    states = tracker.evaluate([holding(3)])
    assert states[("IngressRoute", "default", "root-a.com")].programmed
    assert states[("IngressRoute", "default", "child-a.com")].programmed
    assert states[("IngressRoute", "default", "child-b.com")].pending == (("envoy", "stale"),)


def test_since_is_kept_while_programmed_at_one_generation() -> None:
    now = [100.0]
    tracker = ProgrammedTracker(clock=lambda: now[0])
    built = dag("a.com")
    key = ("IngressRoute", "default", "root-a.com")
    tracker.built(built, built.statuses, None, serials(1), {key: 1})
    assert tracker.evaluate([holding(1)])[key].since == 100.0
    now[0] = 200.0
    assert tracker.evaluate([holding(1)])[key].since == 100.0
    tracker.built(built, built.statuses, {"a.com"}, serials(2), {key: 2})
    assert tracker.evaluate([holding(1)])[key].since is None
    assert tracker.evaluate([holding(2)])[key].since == 200.0


def test_not_valid_and_routeless_objects_are_never_programmed() -> None:
    tracker = ProgrammedTracker()
    statuses = (m.Status("default", "orphan", "orphaned", "not part of a delegation chain"),
                m.Status("default", "bad", "invalid", "missing service", "x.com"))
    ingress = ("Ingress", "default", "no-rules")
    tracker.built(m.DAG(statuses=statuses), statuses, None, serials(1), {ingress: 1})
    states = tracker.evaluate([holding(5)])
    assert states[("IngressRoute", "default", "orphan")].reason == "not valid (orphaned)"
    assert states[("IngressRoute", "default", "bad")].reason == "not valid (invalid)"
    assert states[ingress].reason == "serves no route"


def test_an_ingress_is_programmed_through_its_routes() -> None:
    tracker = ProgrammedTracker()
    vhost = m.VirtualHost("i.com", (route("/", ("default", "web"), kind="Ingress"),))
    key = ("Ingress", "default", "web")
    tracker.built(m.DAG(http=(vhost,)), (), None, serials(4), {key: 2})
    state = tracker.evaluate([holding(4, "a"), holding(3, "b")])[key]
    assert (state.served, state.pending, state.generation) == (("a",), (("b", "stale"),), 2)


def test_unserved_since_is_kept_per_generation() -> None:
    now = [10.0]
    tracker = ProgrammedTracker(clock=lambda: now[0])
    built = dag("a.com")
    key = ("IngressRoute", "default", "root-a.com")
    tracker.built(built, built.statuses, None, serials(2), {key: 1})
    assert tracker.evaluate([holding(1)])[key].unserved_since == 10.0
    now[0] = 20.0
    assert tracker.evaluate([])[key].unserved_since == 10.0
    assert tracker.evaluate([holding(2)])[key].unserved_since is None
    assert tracker.evaluate([holding(1)])[key].unserved_since == 20.0


def test_routes_on_an_isolated_gateway_listener_are_programmed() -> None:
    """An isolated Gateway's own listener (docs/decisions.md) is one more place a route is
    served from; its hosts wait for the serials of every build (the listener is re-encoded
    whole), so no state is programmed before Envoy holds it."""
    tracker = ProgrammedTracker()
    vhost = m.VirtualHost("g.com", (route("/", ("default", "web"), kind="HTTPRoute"),))
    listener = m.GatewayListener("gateway/default/gw/80@10000", 10000, False, http=(vhost,))
    built = m.DAG(gateway_listeners=(listener,))
    key = ("HTTPRoute", "default", "web")
    assert object_hosts(built) == {key: frozenset({"g.com"})}
    tracker.built(built, (), None, serials(4), {key: 1})
    assert tracker.evaluate([holding(4)])[key].programmed
    tracker.built(built, (), {"other.com"}, serials(5), {key: 1})
    assert tracker.evaluate([holding(4)])[key].pending == (("envoy", "stale"),)
    assert tracker.evaluate([holding(5)])[key].programmed
