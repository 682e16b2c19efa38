"""The HTTPProxy `Programmed` condition (an extension of v1.33's status, docs/decisions.md):
True when every connected Envoy serves the object's current generation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from controller.dag.model import Condition, Status
from controller.programmed.hosts import Key
from controller.programmed.state import Programmed

PROGRAMMED = "Programmed"
HTTPPROXY = "HTTPProxy"
GRACE_SECONDS = 10.0
"""How long the status of a valid HTTPProxy that waits for its Envoys is left as stored (not
written). A restarted controller sees no Envoy for a moment, then Envoys that hold nothing
until they ACK; a new object or generation waits for its ACK: writing `NoEnvoys` or
`Pending`, then `True`, was three writes per HTTPProxy on a first install and two on every
restart (measured at 1k: 4,509 writes for 1,500 objects; tests/cluster/test_status_writes.py
counts them)."""


def programmed_condition(state: Programmed) -> Condition:
    """True/Programmed, or False with why: NotValid, NoEnvoys, Rejected (a NACK) or Pending."""
    if state.programmed:
        return Condition(PROGRAMMED, "True", "Programmed", state.message)
    if state.reason:
        reason = "NotValid"
    elif not state.total:
        reason = "NoEnvoys"
    elif any(why.startswith("NACKed") for _, why in state.pending):
        reason = "Rejected"
    else:
        reason = "Pending"
    return Condition(PROGRAMMED, "False", reason, state.message)


def with_programmed(statuses: tuple[Status, ...],
                    states: Mapping[Key, Programmed]) -> tuple[Status, ...]:
    """Every HTTPProxy status with its Programmed condition (replacing an earlier one);
    the others as they are. Order is kept."""
    out = []
    for status in statuses:
        state = states.get((status.kind, status.namespace, status.name))
        if status.kind != HTTPPROXY or state is None:
            out.append(status)
            continue
        kept = tuple(c for c in status.conditions if c.type != PROGRAMMED)
        out.append(replace(status, conditions=(*kept, programmed_condition(state))))
    return tuple(out)


def to_write(statuses: tuple[Status, ...], states: Mapping[Key, Programmed],
             now: float) -> tuple[Status, ...]:
    """The statuses for the status writer: `with_programmed`'s, without the HTTPProxies in
    their grace (`in_grace`): what is stored for those stands until their Envoys serve them
    (one write, `True`) or the grace ends (`NoEnvoys`, `Pending`)."""
    waiting = {key for key, state in states.items()
               if key[0] == HTTPPROXY and in_grace(state, now)}
    return tuple(s for s in with_programmed(statuses, states)
                 if (s.kind, s.namespace, s.name) not in waiting)


def in_grace(state: Programmed, now: float) -> bool:
    """A valid object that has waited for its Envoys less than GRACE_SECONDS (not NACKed)."""
    return (not state.programmed and not state.reason and state.unserved_since is not None
            and now - state.unserved_since < GRACE_SECONDS
            and not any(why.startswith("NACKed") for _, why in state.pending))
