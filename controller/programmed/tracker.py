"""Programmed state per object: which connected Envoys serve its current generation.

`built` is called by the routing path after every publish, with the hosts the build changed
(None: all) and the snapshot's serials: those hosts now need at least these serials. It is
O(changed hosts): the object → hosts map is derived from the DAG's provenance only when
someone asks (`evaluate`: /debug/status, the status writer's tick, at most once per DAG).

`evaluate` may run on another thread (the debug server): state is swapped under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from controller.dag.model import DAG, VALID, Status
from controller.programmed.hosts import Key, all_vhosts, gateway_hosts, object_hosts
from controller.programmed.state import (
    NO_SERIALS,
    PROGRAMMED_TYPES,
    NodeRecord,
    Programmed,
    Serials,
    merged,
    on_nodes,
)

INGRESS = "Ingress"
STATUSLESS_KINDS = frozenset({INGRESS, "HTTPRoute", "GRPCRoute", "TLSRoute"})
"""Routing kinds without a builder `Status`: valid while stored (the boundary refused the
others), programmed when they serve a route. Gateway API routes' own statuses are
gateway_model's; whether they attach shows here as serving a route or not."""


@dataclass(slots=True)
class _Built:
    """What the last build left: its DAG, host → serials needed, object → generation."""

    dag: DAG = field(default_factory=DAG)
    statuses: tuple[Status, ...] = ()
    required: dict[str, Serials] = field(default_factory=dict)
    generations: dict[Key, int | None] = field(default_factory=dict)
    hosts: dict[Key, frozenset[str]] | None = None  # derived lazily from `dag`


class ProgrammedTracker:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._built = _Built()
        self._since: dict[Key, tuple[int | None, float]] = {}
        self._unserved: dict[Key, tuple[int | None, float]] = {}
        self._evaluating = threading.Lock()  # `_since` is evaluate's own

    def built(self, dag: DAG, statuses: tuple[Status, ...], hosts: Iterable[str] | None,
              serials: Mapping[str, int], generations: Mapping[Key, int | None]) -> None:
        """A build was published: `hosts` (None: every host) need `serials` from now on.
        `statuses` are the final ones (translation and boundary rejections included);
        `generations` are the routing objects' metadata.generation it was built from."""
        vector = tuple(serials.get(t, 0) for t in PROGRAMMED_TYPES)
        with self._lock:
            required = self._built.required
            if hosts is None:
                required = {h: vector for h in _dag_hosts(dag)}
            else:  # an isolated Gateway's listener is re-encoded whole: its hosts wait too
                for host in {*hosts, *gateway_hosts(dag)}:
                    required[host] = vector
            self._built = _Built(dag, statuses, required, dict(generations))

    def hosts(self) -> dict[Key, frozenset[str]]:
        """Object → the hosts it contributes to, for the current DAG."""
        with self._lock:
            built = self._built
        if built.hosts is None:
            built.hosts = object_hosts(built.dag)
        return built.hosts

    def evaluate(self, nodes: Iterable[NodeRecord]) -> dict[Key, Programmed]:
        """Every routing object of the last build → its programmed state, sorted by key.

        perf: objects needing the same serials share one verdict (every host of a build
        shares its serials): 20k objects on 3 Envoys took 160 ms when each was judged on
        its own, a stall of the event loop once per status tick."""
        nodes = list(nodes)
        found = self.hosts()
        with self._lock:
            built = self._built
        verdicts: dict[Serials, Programmed] = {}
        with self._evaluating:
            out: dict[Key, Programmed] = {}
            for key, current in sorted(_objects(built.statuses, built.generations).items()):
                out[key] = self._state(key, current, found.get(key, frozenset()),
                                       built, nodes, verdicts)
            self._since = {k: v for k, v in self._since.items() if k in out}
            self._unserved = {k: v for k, v in self._unserved.items() if k in out}
        return out

    def _state(self, key: Key, current: str, hosts: frozenset[str], built: _Built,
               nodes: list[NodeRecord], verdicts: dict[Serials, Programmed]) -> Programmed:
        generation = built.generations.get(key)
        if current != VALID or not hosts:
            self._since.pop(key, None)
            why = f"not valid ({current})" if current != VALID else "serves no route"
            return Programmed(generation=generation, reason=why)
        required = built.required
        if len(hosts) == 1:
            vector = required.get(next(iter(hosts)), NO_SERIALS)
        else:
            vector = merged(required.get(h, NO_SERIALS) for h in hosts)
        verdict = verdicts.get(vector)
        if verdict is None:
            verdict = verdicts[vector] = on_nodes(nodes, vector, None, None)
        if not verdict.programmed:
            self._since.pop(key, None)
            lost = self._unserved.get(key)
            if lost is None or lost[0] != generation:
                lost = self._unserved[key] = (generation, self._clock())
            return Programmed(verdict.served, verdict.pending, generation,
                              unserved_since=lost[1])
        self._unserved.pop(key, None)
        seen = self._since.get(key)
        if seen is None or seen[0] != generation:
            seen = self._since[key] = (generation, self._clock())
        return Programmed(verdict.served, (), generation, seen[1])


def _dag_hosts(dag: DAG) -> set[str]:
    return {vh.host for vh in all_vhosts(dag)}


def _objects(statuses: tuple[Status, ...],
             generations: Mapping[Key, int | None]) -> dict[Key, str]:
    """Every routing object → its status (valid, invalid, orphaned). IngressRoutes and
    HTTPProxies carry a status; an Ingress or a Gateway API route is valid when the store
    holds it (STATUSLESS_KINDS) and, like the rest, programmed only when it serves a route."""
    out: dict[Key, str] = {(s.kind, s.namespace, s.name): s.current for s in statuses}
    for key in generations:
        if key[0] in STATUSLESS_KINDS:
            out.setdefault(key, VALID)
    return out
