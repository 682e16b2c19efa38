"""Statuses computed by the builder, keyed by (kind, namespace, name), and name resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubectl_contour.errors import NotFound, UsageError
from kubectl_contour.objects import (
    GATEWAY,
    GRPCROUTE,
    HTTPPROXY,
    HTTPROUTE,
    INGRESSROUTE,
    Key,
    Obj,
    Snapshot,
    key_of,
    stored_status,
)

KIND_PREFIXES = {"ingressroute": INGRESSROUTE, "ingressroutes": INGRESSROUTE,
                 "httpproxy": HTTPPROXY, "httpproxies": HTTPPROXY, "proxy": HTTPPROXY,
                 "gateway": GATEWAY, "gateways": GATEWAY, "gtw": GATEWAY,
                 "httproute": HTTPROUTE, "httproutes": HTTPROUTE,
                 "grpcroute": GRPCROUTE, "grpcroutes": GRPCROUTE}
"""`KIND/NAME` prefixes a NAME argument may carry (kubectl's resource names)."""


@dataclass(frozen=True, slots=True)
class Computed:
    current: str
    description: str
    vhost: str = ""
    conditions: tuple[Any, ...] = ()
    """HTTPProxy: the Valid condition (model.Condition) with its errors and warnings."""

    @property
    def reason(self) -> str:
        """The first error's message (HTTPProxy), else the description."""
        errors = [e for c in self.conditions for e in c.errors]
        return errors[0].message if errors else self.description

    def summary(self) -> str:
        return f"{self.current}: {self.reason}"


Statuses = dict[tuple[str, str, str], Computed]
"""(kind, namespace, name) → the status the builder computed."""


@dataclass(frozen=True, slots=True)
class StatusRow:
    kind: str
    namespace: str
    name: str
    hosts: str
    status: str
    reason: str
    stored_status: str = ""
    stored_reason: str = ""
    conditions: tuple[Any, ...] = ()
    """HTTPProxy: v1.33's Valid condition with its errors and warnings (for -o json|yaml)."""


def computed_statuses(statuses: Iterable[object]) -> Statuses:
    """First status per object wins, as in the builder (spec §1.8)."""
    out: Statuses = {}
    for st in statuses:
        kind = str(getattr(st, "kind", INGRESSROUTE) or INGRESSROUTE)
        key = (kind, str(getattr(st, "namespace", "")), str(getattr(st, "name", "")))
        out.setdefault(key, Computed(str(getattr(st, "current", "")),
                                     str(getattr(st, "description", "")),
                                     str(getattr(st, "vhost", "") or ""),
                                     tuple(getattr(st, "conditions", ()))))
    return out


def status_of(statuses: Statuses, kind: str, key: Key) -> Computed | None:
    return statuses.get((kind, *key))


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


def split_kind(text: str) -> tuple[str | None, str]:
    """`httpproxy/NAME` or `ingressroute/NS/NAME` → (kind, rest); no known prefix → None."""
    head, slash, rest = text.partition("/")
    kind = KIND_PREFIXES.get(head.lower()) if slash else None
    return (kind, rest) if kind else (None, text)


def resolve_proxy(snapshot: Snapshot, text: str, *,
                  namespace: str | None) -> tuple[str, Key]:
    """An IngressRoute or HTTPProxy by `[KIND/][NS/]NAME`; a name both kinds have needs
    the kind (usage error), as does a name in several namespaces."""
    kind, rest = split_kind(text)
    if kind is not None:
        return kind, resolve(snapshot, kind, rest, namespace=namespace)
    found = []
    for k in (INGRESSROUTE, HTTPPROXY):
        try:
            found.append((k, resolve(snapshot, k, text, namespace=namespace)))
        except NotFound:
            continue
    if not found:
        where = f" in namespace {namespace}" if namespace else ""
        raise NotFound(f"IngressRoute or HTTPProxy {text!r} not found{where}")
    if len(found) > 1:
        raise UsageError(f"{text!r} names both an IngressRoute and an HTTPProxy",
                         hint=f"say which: ingressroute/{text} or httpproxy/{text}")
    return found[0]
