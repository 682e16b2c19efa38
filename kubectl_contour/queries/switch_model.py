"""A switch plan: the entries that change (Change), the checks run on the switched objects
(Check), and the plan itself; shared by switch.py and switch_gateway.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import INGRESSROUTE, Key


@dataclass(frozen=True, slots=True)
class Change:
    root: Key
    fqdn: str
    index: int
    match: str
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    source: Key
    target: Key
    changes: tuple[Change, ...]
    checks: tuple[Check, ...] = ()
    kind: str = INGRESSROUTE

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def roots(self) -> list[Key]:
        return sorted({c.root for c in self.changes})
