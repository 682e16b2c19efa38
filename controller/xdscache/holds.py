"""Hosts held back at what Envoy last accepted: the translator's side of NACK attribution.

Every slot (port, host) whose parts changed since every connected Envoy last held all of the
controller's content (the "stable" point, `mark_stable`) remembers the parts it had then.
Those hosts are the suspects of a rejected update (`changed_hosts`). A host can be held at
those parts:

- while probing (`probe`): the bisection of a rejected update tries a subset of the suspects
  with everyone else held, and reads Envoy's answer;
- quarantined (`quarantine`): Envoy rejected its current content. It keeps serving what
  Envoy last accepted (nothing, for a new host), its status says Envoy's message, and the
  quarantine ends when its DAG value changes (the user fixed it: try again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.xdscache.translator import VhostParts

Slot = tuple[int, str]
Parts = tuple[VhostParts | None, VhostParts | None]
"""A host's (port 80, port 443) parts."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    values: tuple[Any, Any]
    """The host's DAG values (port 80, port 443) when it was quarantined."""
    parts: Parts
    reason: str


class Holds:
    def __init__(self) -> None:
        self._before: dict[Slot, VhostParts | None] = {}
        self._probing: frozenset[str] = frozenset()
        self._quarantined: dict[str, Quarantined] = {}

    def note(self, slot: Slot, old: VhostParts | None) -> None:
        """The slot's parts move away from `old` (the first move since stable is kept)."""
        self._before.setdefault(slot, old)

    def mark_stable(self) -> None:
        """Every connected Envoy holds everything: nothing is suspect any more."""
        self._before.clear()

    def changed_hosts(self) -> list[str]:
        """The hosts whose parts moved since the stable point, quarantined ones aside."""
        return sorted({h for _, h in self._before} - self._quarantined.keys())

    def quarantined(self) -> dict[str, str]:
        return {h: q.reason for h, q in sorted(self._quarantined.items())}

    def probe(self, held: set[str]) -> None:
        self._probing = frozenset(held)

    def quarantine(self, host: str, values: tuple[Any, Any], current: Parts,
                   reason: str) -> None:
        self._quarantined[host] = Quarantined(values, self._accepted(host, current), reason)

    def held(self, host: str, values: tuple[Any, Any],
             current: Parts) -> tuple[Parts, str | None] | None:
        """The parts to contribute instead of the host's own, and the rejection reason
        (None while probing); None when the host is not held."""
        found = self._quarantined.get(host)
        if found is not None and found.values != values:
            del self._quarantined[host]  # changed since: its new content gets its chance
            found = None
        if found is not None:
            return found.parts, found.reason
        if host in self._probing:
            return self._accepted(host, current), None
        return None

    def _accepted(self, host: str, current: Parts) -> Parts:
        """What the host contributed at the stable point."""
        return (self._before.get((0, host), current[0]), self._before.get((1, host), current[1]))
