"""Statuses computed by the builder, keyed by (kind, namespace, name), and name resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubectl_contour.errors import NotFound, UsageError
from kubectl_contour.objects import INGRESSROUTE, Key, Obj, Snapshot, key_of, stored_status


@dataclass(frozen=True, slots=True)
class Computed:
    current: str
    description: str
    vhost: str = ""

    def summary(self) -> str:
        return f"{self.current}: {self.description}"


Statuses = dict[tuple[str, str, str], Computed]
"""(kind, namespace, name) → the status the builder computed."""


def computed_statuses(statuses: Iterable[object]) -> Statuses:
    """First status per object wins, as in the builder (spec §1.8)."""
    out: Statuses = {}
    for st in statuses:
        kind = str(getattr(st, "kind", INGRESSROUTE) or INGRESSROUTE)
        key = (kind, str(getattr(st, "namespace", "")), str(getattr(st, "name", "")))
        out.setdefault(key, Computed(str(getattr(st, "current", "")),
                                     str(getattr(st, "description", "")),
                                     str(getattr(st, "vhost", "") or "")))
    return out


def ingressroute_status(statuses: Statuses, key: Key) -> Computed | None:
    return statuses.get((INGRESSROUTE, *key))


def stored_if_different(obj: Obj, computed: Computed | None, *, live: bool) -> tuple[str, str]:
    """The status stored on the object, only in cluster mode and only when it differs."""
    if not live:
        return ("", "")
    stored = stored_status(obj)
    mine = (computed.current, computed.description) if computed else ("", "")
    return ("", "") if stored == mine else stored


def split_ref(text: str, *, namespace: str | None) -> tuple[str | None, str]:
    """`ns/name` or `name` (in -n's namespace, or any namespace when -n is not given)."""
    if "/" in text:
        ns, _, name = text.partition("/")
        return ns, name
    return namespace, text


def resolve(snapshot: Snapshot, kind: str, text: str, *, namespace: str | None) -> Key:
    """One object by name; ambiguous (several namespaces, no -n) is a usage error."""
    ns, name = split_ref(text, namespace=namespace)
    found = [key_of(o) for o in snapshot.of_kind(kind)
             if key_of(o)[1] == name and (ns is None or key_of(o)[0] == ns)]
    if not found:
        where = f" in namespace {ns}" if ns else ""
        raise NotFound(f"{kind} {name!r} not found{where}")
    if len(found) > 1:
        names = ", ".join(f"{k[0]}/{k[1]}" for k in found)
        raise UsageError(f"{kind} name {name!r} is ambiguous: {names}",
                         hint="give -n NAMESPACE or NAMESPACE/NAME")
    return found[0]
