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
