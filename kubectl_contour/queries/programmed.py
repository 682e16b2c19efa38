"""`wait` and `proxy-status`, the pure parts: the controller's /debug/programmed rows and
/debug/xds nodes in, verdicts and rows out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import GRPCROUTE, HTTPPROXY, HTTPROUTE, INGRESS, INGRESSROUTE, TLSROUTE

KIND_ALIASES = {
    "ingressroute": INGRESSROUTE, "ingressroutes": INGRESSROUTE, "ir": INGRESSROUTE,
    "httpproxy": HTTPPROXY, "httpproxies": HTTPPROXY, "proxy": HTTPPROXY,
    "ingress": INGRESS, "ingresses": INGRESS, "ing": INGRESS,
    "httproute": HTTPROUTE, "httproutes": HTTPROUTE,
    "grpcroute": GRPCROUTE, "grpcroutes": GRPCROUTE, "tlsroute": TLSROUTE, "tlsroutes": TLSROUTE,
}
ROUTING_KINDS = (INGRESSROUTE, HTTPPROXY, INGRESS, HTTPROUTE, GRPCROUTE, TLSROUTE)
"""What `wait NAME` (no KIND) looks for, in this order."""
READY, WAITING, FAILED = "ready", "waiting", "failed"


@dataclass(frozen=True, slots=True)
class Target:
    """What `wait NAME` names: a kind (empty: any routing kind), a namespace and a name."""

    kind: str
    namespace: str
    name: str


def parse_target(text: str, namespace: str) -> Target | None:
    """`[KIND/]NAME` in `namespace` (kubectl's form); `NS/NAME` is refused: use -n. None
    when KIND is not a routing kind."""
    kind, _, name = text.rpartition("/")
    if not kind:
        return Target("", namespace, name)
    found = KIND_ALIASES.get(kind.lower().split(".", 1)[0])
    return Target(found, namespace, name) if found else None


def matching_rows(rows: list[dict[str, Any]], target: Target) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("namespace") == target.namespace
            and r.get("name") == target.name and (not target.kind or r.get("kind") == target.kind)]


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # READY, WAITING or FAILED
    message: str


def verdict(row: dict[str, Any] | None, *, goal: str, generation: int | None) -> Verdict:
    """Whether the controller's row says `goal` (`programmed` or `valid`) holds for the
    object at `generation` (its metadata.generation in the cluster; None: any). An invalid
    object is only waiting (a Service it names may still be coming); a NACK is final."""
    if row is None:
        return Verdict(WAITING, "the controller has not built it yet")
    built = row.get("generation")
    if generation is not None and built is not None and built < generation:
        return Verdict(WAITING, f"the controller has built generation {built}, "
                                f"not yet {generation}")
    status = str(row.get("currentStatus") or "")
    if status != "valid":
        return Verdict(WAITING, f"{status}: {row.get('description') or ''}".rstrip(": "))
    if goal == "valid":
        return Verdict(READY, "valid")
    nacked = [p for p in row.get("pending") or [] if str(p.get("why", "")).startswith("NACKed")]
    if nacked:
        return Verdict(FAILED, "; ".join(f"{p['node']}: {p['why']}" for p in nacked))
    if row.get("programmed"):
        return Verdict(READY, str(row.get("message") or "programmed"))
    return Verdict(WAITING, str(row.get("message") or row.get("reason") or "not programmed"))


def combined(verdicts: list[Verdict]) -> Verdict:
    """Several controllers' verdicts on one object (manifests/ runs one per pod, each with
    its own Envoy): failed if any failed, waiting while any waits, else ready."""
    for state in (FAILED, WAITING):
        messages = sorted({v.message for v in verdicts if v.state == state})
        if messages:
            return Verdict(state, "; ".join(messages))
    messages = sorted({v.message for v in verdicts})
    if len(verdicts) > 1 and len(messages) == 1:
        return Verdict(READY, f"{messages[0]}, at each of {len(verdicts)} controllers")
    return Verdict(READY, "; ".join(messages) or "programmed")


@dataclass(frozen=True, slots=True)
class ProxyRow:
    """One Envoy as the controller sees it (`proxy-status`)."""

    node: str
    pod: str
    cluster: str
    state: str
    """synced, stale, nacked or disconnected"""
    versions: dict[str, str]
    """Per type (clusters, endpoints, ...): the version it acked ("" none)."""
    stale: list[str]
    """The types whose current content it does not hold yet."""
    error: str


def proxy_rows(debug: dict[str, Any], pods: set[str], types: dict[str, str]) -> list[ProxyRow]:
    """Rows sorted by node; `types` maps short type names to type URLs; `pods` are the
    names of the Envoy pods (a node id that names one is that pod)."""
    serials = debug.get("serials") or {}
    rows = []
    for node in sorted(debug.get("nodes") or [], key=lambda n: str(n.get("node"))):
        held = node.get("types") or {}
        name = str(node.get("node") or "")
        stale = [short for short, url in types.items()
                 if (held.get(url) or {}).get("held", 0) < serials.get(url, 0)]
        nacked = [short for short, url in types.items() if (held.get(url) or {}).get("rejecting")]
        rows.append(ProxyRow(
            name, name if name in pods else "", str(node.get("cluster") or ""),
            _state(bool(node.get("connected", True)), nacked, stale),
            {short: str((held.get(url) or {}).get("acked") or "") for short, url in types.items()},
            stale, _last_error(held)))
    return rows


def in_use(debugs: list[dict[str, Any]], types: dict[str, str]) -> dict[str, str]:
    """The `types` (short name → type URL) some controller serves (its /debug/xds lists a
    layout type only while it holds resources) or some node asked for."""
    def used(url: str) -> bool:
        return any(url in (d.get("serials") or {}) or
                   any(url in (n.get("types") or {}) for n in d.get("nodes") or [])
                   for d in debugs)

    return {short: url for short, url in types.items() if used(url)}


def merged_proxy_rows(per_controller: list[list[ProxyRow]]) -> list[ProxyRow]:
    """Several controllers' rows as one list sorted by node: an Envoy that one controller
    lists as disconnected (it moved) and another as connected appears once, connected."""
    best: dict[str, ProxyRow] = {}
    for rows in per_controller:
        for row in rows:
            kept = best.get(row.node)
            if kept is None or (kept.state == "disconnected" and row.state != "disconnected"):
                best[row.node] = row
    return [best[node] for node in sorted(best)]


def _state(connected: bool, nacked: list[str], stale: list[str]) -> str:
    if not connected:
        return "disconnected"
    if nacked:
        return "nacked"
    return "stale" if stale else "synced"


def _last_error(types: dict[str, Any]) -> str:
    nacks = [t["nack"] for t in types.values() if (t or {}).get("nack")]
    last = max(nacks, key=lambda n: n.get("time") or 0, default=None)
    return str(last.get("error") or "") if last else ""
