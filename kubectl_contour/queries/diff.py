"""Controller (`/debug/xds`) versus Envoy (`/config_dump`): per node and xDS type, is Envoy
holding what the controller serves? States: ok, stale (a newer version is not acked yet),
nacked (Envoy rejected the last version), drift (Envoy holds a version the controller never
recorded as acked), missing (the Envoy is not connected to the controller).

An Envoy on delta ADS shows each route table's and secret's own version, not the response's:
those types are compared resource by resource with the controller's `/debug/xds/resources`
(`debug["resources"]`), the others by the response version as under state-of-the-world.
Scoped route tables (`--route-layout scoped`) show only their set's version (the last SRDS
response's, under delta too): compared by that version, then by the scope names held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from kubectl_contour.queries.envoy import (
    LAYOUT_KINDS,
    TYPE_URLS,
    TYPES,
    held_resources,
    type_versions,
)


@dataclass(frozen=True, slots=True)
class DiffRow:
    node: str
    type: str
    serving: str
    """The controller's current version of the type."""
    sent: str
    acked: str
    envoy: str
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class EnvoyView:
    node: str
    """Node id from /server_info."""
    source: str
    """Pod name or admin URL."""
    dump: dict[str, Any]


PER_RESOURCE = ("routes", "secrets")
"""Types whose config_dump versions are per resource under delta ADS."""
BY_NAME = ("scopedroutes",)
"""Types compared by the names held once their version is right (no per-resource one)."""


def kinds_of(debug: dict[str, Any], types: dict[str, Any] | None,
             dump: dict[str, Any]) -> list[str]:
    """TYPES, with each layout kind (scoped routes) after `routes` when the controller
    serves it, the node subscribed to it or Envoy holds it: an Envoy that never asked for
    scopes while none are served has nothing to compare (and no row)."""
    shown = [k for k in LAYOUT_KINDS if TYPE_URLS[k] in (debug.get("versions") or {})
             or TYPE_URLS[k] in (types or {}) or type_versions(dump, k)]
    at = TYPES.index("routes") + 1
    return [*TYPES[:at], *shown, *TYPES[at:]]


def node_entry(debug: dict[str, Any], node: str) -> dict[str, Any] | None:
    """The node's /debug/xds entry, or None when it is not connected to the controller (the
    controller keeps disconnected nodes for a while, with `connected: false`)."""
    for entry in debug.get("nodes") or []:
        if entry.get("node") == node and entry.get("connected", True) is not False:
            return dict(entry)
    return None


def node_types(debug: dict[str, Any], node: str) -> dict[str, Any] | None:
    """The node's per-type state, or None when it is not connected (`node_entry`)."""
    entry = node_entry(debug, node)
    return None if entry is None else dict(entry.get("types") or {})


def controller_of(debugs: Sequence[dict[str, Any]], node: str) -> dict[str, Any]:
    """The /debug/xds of the controller `node` is connected to; the first one when none is
    (its versions are then what the Envoy should hold)."""
    return next((d for d in debugs if node_types(d, node) is not None), debugs[0] if debugs
                else {})


def diff_rows(debug: dict[str, Any] | Sequence[dict[str, Any]],
              envoys: list[EnvoyView]) -> list[DiffRow]:
    """One row per Envoy and xDS type, sorted; `debug` is one controller's /debug/xds or
    every controller's (each Envoy is then compared with the one it is connected to)."""
    debugs = [debug] if isinstance(debug, dict) else list(debug)
    rows = []
    for envoy in sorted(envoys, key=lambda e: e.node):
        rows += envoy_rows(envoy, controller_of(debugs, envoy.node))
    return rows


def envoy_rows(envoy: EnvoyView, debug: dict[str, Any]) -> list[DiffRow]:
    """The Envoy's rows against one controller's /debug/xds, in TYPES order."""
    versions = debug.get("versions") or {}
    entry = node_entry(debug, envoy.node)
    types = None if entry is None else dict(entry.get("types") or {})
    delta = entry is not None and entry.get("protocol") == "delta"
    rows = []
    for kind in kinds_of(debug, types, envoy.dump):
        url = TYPE_URLS[kind]
        held = type_versions(envoy.dump, kind)
        serving = str(versions.get(url) or "")
        serial = int((debug.get("serials") or {}).get(url) or 0)
        if types is not None and delta and kind in PER_RESOURCE and (url in types or held):
            served = dict((debug.get("resources") or {}).get(url) or {})
            rows.append(delta_row(envoy.node, kind, serving, types.get(url) or {},
                                  held_resources(envoy.dump, kind), served, serial))
        elif types is None:
            rows.append(DiffRow(envoy.node, kind, serving, "", "", ",".join(held), "missing",
                                f"{envoy.source} is not connected to the controller"))
        elif url not in types and not held:
            # an Envoy asks for secrets only once a listener needs one: nothing to hold
            rows.append(DiffRow(envoy.node, kind, serving, "", "", "", "ok",
                                "not subscribed: nothing of this type is in use"))
        else:
            row = diff_row(envoy.node, kind, serving, types.get(url) or {}, held,
                           serial=serial)
            names = (debug.get("resources") or {}).get(url)
            if kind in BY_NAME and row.state == "ok" and names is not None:
                row = names_row(row, set(held_resources(envoy.dump, kind)), set(names))
            rows.append(row)
    return rows


def names_row(row: DiffRow, held: set[str], served: set[str]) -> DiffRow:
    """An in-sync row of scopes unless Envoy holds other names than the controller serves."""
    extra, lacking = sorted(held - served), sorted(served - held)
    if not extra and not lacking:
        return row
    what = (f"Envoy holds {extra[0]}, which the controller does not serve" if extra else
            f"Envoy lacks {lacking[0]}, which the controller serves")
    more = len(extra) + len(lacking) - 1
    return replace(row, state="drift", detail=what + (f" (+{more} more)" if more else ""))


def delta_row(node: str, kind: str, serving: str, state: dict[str, Any],
              held: dict[str, str], served: dict[str, str], serial: int) -> DiffRow:
    """A delta node's route tables or secrets, resource by resource: `held` is Envoy's
    name → version, `served` the controller's. A resource at another version is `stale`
    while a newer response is in flight (sent, not acked), `drift` otherwise."""
    sent, acked = str(state.get("sent") or ""), str(state.get("acked") or "")
    row = DiffRow(node, kind, serving, sent, acked, held_column(held), "ok")
    if state.get("nack"):
        return nacked(row, state["nack"])
    differ = [n for n, v in held.items() if served.get(n) != v]
    behind = acked != serving and not (bool(serial) and int(state.get("held") or 0) >= serial)
    if differ and not (behind and sent != acked):
        name = differ[0]
        more = f" (+{len(differ) - 1} more)" if len(differ) > 1 else ""
        return replace(row, state="drift", detail=(
            f"Envoy holds {name} at {held[name]!r}, the controller serves "
            f"{served.get(name, 'nothing')!r}{more}"))
    if behind:
        return replace(row, state="stale", detail=f"serving {serving}, Envoy acked {acked!r}")
    return row


def held_column(held: dict[str, str]) -> str:
    """Envoy's distinct per-resource versions for the ENVOY column: two at most, then the
    count of the others (no spaces: the text table is split on whitespace by scripts)."""
    versions = sorted(set(held.values()))
    shown = ",".join(versions[:2])
    return shown + (f",+{len(versions) - 2}" if len(versions) > 2 else "")


def diff_row(node: str, kind: str, serving: str, state: dict[str, Any],
             held: tuple[str, ...], *, serial: int = 0) -> DiffRow:
    """Listeners and clusters carry one version; routes, secrets and endpoints carry one per
    resource (an unchanged resource keeps an older one), so the acked version must be among
    them. A node that holds the type's current content serial (`serial`, the controller's)
    is not stale even when its acked version is older: the change was to resources it does
    not ask for (a removed secret it unsubscribed from), so nothing was owed to it."""
    sent, acked = str(state.get("sent") or ""), str(state.get("acked") or "")
    row = DiffRow(node, kind, serving, sent, acked, ",".join(held), "ok")
    if state.get("nack"):
        return nacked(row, state["nack"])
    if held and acked not in held:
        return replace(row, state="drift",
                       detail=f"Envoy holds {row.envoy}, the controller saw {acked!r} acked")
    current = bool(serial) and int(state.get("held") or 0) >= serial
    if serving and acked != serving and not current:
        return replace(row, state="stale", detail=f"serving {serving}, Envoy acked {acked!r}")
    if not held and kind == "endpoints" and acked:
        return replace(row, detail="Envoy's dump has no EDS versions: acked version checked")
    return row


def nacked(row: DiffRow, nack: dict[str, Any]) -> DiffRow:
    """The row of a type whose last response the Envoy rejected."""
    detail = f"version {nack.get('version', '?')} rejected: {nack.get('error', '')}"
    return replace(row, state="nacked", detail=detail)


def drifted(rows: list[DiffRow]) -> bool:
    return any(r.state != "ok" for r in rows)
