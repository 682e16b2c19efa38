"""Envoy admin output (`/config_dump`, `/clusters?format=json`) → redacted documents and rows.

Route tables are read in one place, `route_tables`: RDS tables and the tables inline in
scoped RDS scopes (the port-80 listener's under `--route-layout scoped`) alike.

Private keys never leave this module unredacted: `redact()` runs on every dump before it is
shown or returned, whatever the output format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from controller.envoy import type_urls as t

REDACTED = "[redacted]"
TYPES = ("listeners", "routes", "clusters", "endpoints", "secrets")
DUMP_TYPES = {
    "listeners": "ListenersConfigDump",
    "routes": "RoutesConfigDump",
    "scopedroutes": "ScopedRoutesConfigDump",
    "clusters": "ClustersConfigDump",
    "endpoints": "EndpointsConfigDump",
    "secrets": "SecretsConfigDump",
}
TYPE_URLS = {"listeners": t.LISTENER_TYPE, "routes": t.ROUTE_TYPE, "clusters": t.CLUSTER_TYPE,
             "endpoints": t.ENDPOINT_TYPE, "secrets": t.SECRET_TYPE,
             "scopedroutes": t.SCOPED_ROUTE_TYPE}
LAYOUT_KINDS = ("scopedroutes",)
"""Kinds an Envoy holds only in some route layouts (not in TYPES: shown where present)."""
ROUTE_DUMPS = ("/config_dump?resource=dynamic_route_configs",
               "/config_dump?resource=dynamic_scoped_route_configs")
"""The two queries `route_tables` reads (as one dump: `kubectl_contour.admin.get_dumps`).
Two, because Envoy 1.40 takes one field per `?resource=` and answers 400 to a `?mask=`
naming both (a mask must apply to every config); an Envoy that never subscribed to scopes
answers the second with `{}`."""


def route_dumps(fqdns: Iterable[str] = ()) -> tuple[str, ...]:
    """ROUTE_DUMPS, the scopes narrowed to those of `fqdns` when given (none: all). Envoy
    1.40 matches `name_regex` against each scope's whole name (checked on a real one), and
    a scope is named `<listener's set>/<host>`: a poll for a few hosts then costs ~1 kB of
    scopes instead of all of them (9.4 MB and ~0.6 s of Envoy's main thread at 10k hosts,
    BENCHMARKS.md "The plugin's reads of scoped route tables"). RDS tables stay whole. A
    scope named otherwise would not be read: the poll waiting for it times out, loudly."""
    hosts = sorted({f.lower() for f in fqdns})
    if not hosts:
        return ROUTE_DUMPS
    pattern = "(?i).*/(?:" + "|".join(re.escape(h) for h in hosts) + ")"
    return ROUTE_DUMPS[0], f"{ROUTE_DUMPS[1]}&name_regex={quote(pattern, safe='')}"


SECRET_KEYS = ("private_key", "tls.key")


def redact(value: Any) -> Any:
    """A copy with every private key replaced (`private_key` and its inline data, `tls.key`)."""
    if isinstance(value, list):
        return [redact(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in SECRET_KEYS:
            out[key] = redact_key(item)
        else:
            out[key] = redact(item)
    return out


def redact_key(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: (REDACTED if k in ("inline_bytes", "inline_string") else redact(v))
                for k, v in item.items()}
    return REDACTED


def dump_type(config: dict[str, Any]) -> str:
    """`envoy.admin.v3.RoutesConfigDump` → `RoutesConfigDump`; a per-resource entry
    (`...RoutesConfigDump.DynamicRouteConfig`) → `RoutesConfigDump.DynamicRouteConfig`."""
    name = str(config.get("@type", "")).rsplit("/", 1)[-1]
    return name.removeprefix("envoy.admin.v3.")


def section(dump: dict[str, Any], kind: str) -> dict[str, Any]:
    """The `configs[]` entry of one type, or {}. The type must match exactly: a real Envoy
    also dumps `ScopedRoutesConfigDump`, which merely ends like `RoutesConfigDump`.

    `/config_dump?resource=FIELD` answers one `configs[]` entry per resource instead (typed
    `<Dump>.<Resource>`); those are gathered back under FIELD, so callers read both shapes
    the same way."""
    wanted = DUMP_TYPES[kind]
    gathered: dict[str, list[dict[str, Any]]] = {}
    for config in dump.get("configs") or []:
        found = dump_type(config)
        if found == wanted:
            return dict(config)
        if found in RESOURCE_FIELDS and found.startswith(wanted + "."):
            gathered.setdefault(RESOURCE_FIELDS[found], []).append(config)
    return dict(gathered)


RESOURCE_FIELDS = {
    "ListenersConfigDump.DynamicListener": "dynamic_listeners",
    "ClustersConfigDump.DynamicCluster": "dynamic_active_clusters",
    "ClustersConfigDump.StaticCluster": "static_clusters",
    "RoutesConfigDump.DynamicRouteConfig": "dynamic_route_configs",
    "RoutesConfigDump.StaticRouteConfig": "static_route_configs",
    "ScopedRoutesConfigDump.DynamicScopedRouteConfigs": "dynamic_scoped_route_configs",
    "SecretsConfigDump.DynamicSecret": "dynamic_active_secrets",
    "EndpointsConfigDump.DynamicEndpointConfig": "dynamic_endpoint_configs",
    "EndpointsConfigDump.StaticEndpointConfig": "static_endpoint_configs",
}
"""`?resource=` entry type → the field of the full dump it comes from."""


@dataclass(frozen=True, slots=True)
class RouteTable:
    """One route table Envoy holds."""

    name: str
    version: str
    """An RDS table's own version under delta ADS (the response's under state-of-the-world);
    for an inline table its scope set's, i.e. the last SRDS response's: Envoy 1.40 shows no
    version per scope (checked on a real one, test_real_route_tables.py)."""
    table: dict[str, Any]
    """The RouteConfiguration as Envoy dumps it."""
    scope: str = ""
    """The ScopedRouteConfiguration carrying it inline; "" for an RDS table."""


def route_tables(dump: dict[str, Any]) -> tuple[RouteTable, ...]:
    """Every route table in `dump` (a full dump, or ROUTE_DUMPS' answers as one), sorted by name
    then scope: each RDS table (`RoutesConfigDump.dynamic_route_configs`) and each table
    inline in a scope (`ScopedRoutesConfigDump.dynamic_scoped_route_configs[]
    .scoped_route_configs[].route_configuration`). A scope that names its table for RDS
    instead (`route_configuration_name`) has it among the RDS tables."""
    out = [RouteTable(str(table.get("name", "")), str(item.get("version_info") or ""), table)
           for item in section(dump, "routes").get("dynamic_route_configs") or []
           for table in [item.get("route_config") or {}]]
    for name, version, scope in held_scopes(dump):
        table = scope.get("route_configuration")
        if isinstance(table, dict):
            out.append(RouteTable(str(table.get("name") or name), version, table, name))
    return tuple(sorted(out, key=lambda r: (r.name, r.scope)))


def held_scopes(dump: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, version, ScopedRouteConfiguration) of every scope in `dump`, in dump order;
    the version is the scope set's (`RouteTable.version`)."""
    return [(str(scope.get("name", "")), str(group.get("version_info") or ""), scope)
            for group in section(dump, "scopedroutes").get("dynamic_scoped_route_configs") or []
            for scope in group.get("scoped_route_configs") or []]


@dataclass(frozen=True, slots=True)
class Rows:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def address(addr: Any) -> str:
    sock = (addr or {}).get("socket_address") or {}
    return f"{sock.get('address', '')}:{sock.get('port_value', '')}"


def listener_rows(dump: dict[str, Any]) -> Rows:
    sec = section(dump, "listeners")
    rows = []
    for item in sec.get("static_listeners") or []:
        rows.append(listener_row(item.get("listener") or {}, "static"))
    for item in sec.get("dynamic_listeners") or []:
        state = item.get("active_state") or item.get("warming_state") or {}
        rows.append(listener_row(state.get("listener") or {"name": item.get("name", "")},
                                 str(state.get("version_info", ""))))
    return Rows(("name", "address", "filter chains", "server names", "version"),
                tuple(sorted(rows)))


def listener_row(listener: dict[str, Any], version: str) -> tuple[str, ...]:
    chains = listener.get("filter_chains") or []
    names = sorted({n for c in chains
                    for n in (c.get("filter_chain_match") or {}).get("server_names") or []})
    return (str(listener.get("name", "")), address(listener.get("address")), str(len(chains)),
            ",".join(names) or "-", version)


def route_rows(dump: dict[str, Any]) -> Rows:
    """Route tables (RDS and inline scoped, `route_tables`) and virtual hosts sorted by name
    (Envoy's dump order is not stable); routes in Envoy's order within a virtual host (the
    first match wins)."""
    rows = []
    for held in route_tables(dump):
        for vhost in sorted(held.table.get("virtual_hosts") or [],
                            key=lambda v: str(v.get("name", ""))):
            for route in vhost.get("routes") or []:
                rows.append((held.name, ",".join(vhost.get("domains") or []),
                             route_match(route), route_action(route), held.version))
    return Rows(("route config", "domains", "match", "action", "version"), tuple(rows))


def route_match(route: dict[str, Any]) -> str:
    match = route.get("match") or {}
    if "prefix" in match:
        return f"prefix {match['prefix']}"
    if "path" in match:
        return f"path {match['path']}"
    if "safe_regex" in match:
        return f"regex {(match['safe_regex'] or {}).get('regex', '')}"
    return "?"


def route_clusters(route: dict[str, Any]) -> list[tuple[str, int]]:
    action = route.get("route") or {}
    if "cluster" in action:
        return [(str(action["cluster"]), 100)]
    weighted = (action.get("weighted_clusters") or {}).get("clusters") or []
    return [(str(c.get("name", "")), int(c.get("weight") or 0)) for c in weighted]


def route_action(route: dict[str, Any]) -> str:
    if "redirect" in route:
        redirect = route["redirect"] or {}
        return "redirect https" if redirect.get("https_redirect") else f"redirect {redirect}"
    clusters = route_clusters(route)
    if len(clusters) == 1:
        return f"→ {clusters[0][0]}"
    return "→ " + ", ".join(f"{n} ({w})" for n, w in clusters)


def cluster_rows(dump: dict[str, Any]) -> Rows:
    sec = section(dump, "clusters")
    rows = []
    for item in sec.get("dynamic_active_clusters") or []:
        cluster = item.get("cluster") or {}
        eds = (cluster.get("eds_cluster_config") or {}).get("service_name", "")
        rows.append((str(cluster.get("name", "")), str(cluster.get("type", "STATIC")),
                     str(cluster.get("lb_policy", "ROUND_ROBIN")), str(eds or "-"),
                     str(item.get("version_info", ""))))
    return Rows(("name", "type", "lb policy", "eds service", "version"), tuple(sorted(rows)))


def endpoint_rows(clusters_json: dict[str, Any]) -> Rows:
    """From `/clusters?format=json`: every host with its health flags."""
    rows = []
    for status in clusters_json.get("cluster_statuses") or []:
        for host in status.get("host_statuses") or []:
            health = host.get("health_status") or {}
            flags = sorted(k for k, v in health.items() if v is True)
            eds = health.get("eds_health_status", "")
            rows.append((str(status.get("name", "")), address(host.get("address")),
                         str(eds or "-"), ",".join(flags) or "-"))
    return Rows(("cluster", "address", "eds health", "flags"), tuple(sorted(rows)))


def secret_rows(dump: dict[str, Any]) -> Rows:
    rows = []
    for item in section(dump, "secrets").get("dynamic_active_secrets") or []:
        secret = item.get("secret") or {}
        kind = next(iter(k for k in secret if k not in ("name", "@type")), "-")
        rows.append((str(item.get("name", "")), kind, REDACTED if "tls_certificate" in secret
                     else "-", str(item.get("version_info", ""))))
    return Rows(("name", "kind", "private key", "version"), tuple(sorted(rows)))


DUMP_ROWS: dict[str, Callable[[dict[str, Any]], Rows]] = {
    "listeners": listener_rows,
    "routes": route_rows,
    "clusters": cluster_rows,
    "secrets": secret_rows,
}
"""The tables read from /config_dump (endpoints come from /clusters: `endpoint_rows`)."""


def type_versions(dump: dict[str, Any], kind: str) -> tuple[str, ...]:
    """The distinct versions Envoy holds for one xDS type (sorted)."""
    sec = section(dump, kind)
    if kind in ("listeners", "clusters"):
        found = {str(sec.get("version_info") or "")}
        items = sec.get("dynamic_listeners" if kind == "listeners" else "dynamic_active_clusters")
        if not items and found == {""}:
            return ()
    elif kind == "routes":
        found = {r.version for r in route_tables(dump) if not r.scope}
    else:
        field = {"secrets": "dynamic_active_secrets", "endpoints": "dynamic_endpoint_configs",
                 "scopedroutes": "dynamic_scoped_route_configs"}[kind]
        found = {str(i.get("version_info") or "") for i in sec.get(field) or []}
    return tuple(sorted(v for v in found if v))


def held_resources(dump: dict[str, Any], kind: str) -> dict[str, str]:
    """RDS tables, scopes or secrets Envoy holds: name → the version it shows for each
    (under delta ADS an RDS table's or secret's own version, under state-of-the-world the
    response's; a scope shows its set's, `RouteTable.version`)."""
    pairs: Iterable[tuple[Any, Any]]
    if kind == "routes":
        pairs = ((r.name, r.version) for r in route_tables(dump) if not r.scope)
    elif kind == "scopedroutes":
        pairs = ((name, version) for name, version, _ in held_scopes(dump))
    else:
        items = section(dump, kind).get("dynamic_active_secrets") or []
        pairs = ((i.get("name"), i.get("version_info")) for i in items)
    return {str(n): str(v or "") for n, v in sorted(pairs, key=lambda p: str(p[0])) if n}


def vhost_routes(dump: dict[str, Any], fqdn: str) -> list[dict[str, Any]]:
    """Every Envoy route of the virtual hosts that serve `fqdn`, across route tables (RDS
    and inline scoped, `route_tables`)."""
    out: list[dict[str, Any]] = []
    for held in route_tables(dump):
        for vhost in held.table.get("virtual_hosts") or []:
            if fqdn in [d.lower() for d in vhost.get("domains") or []]:
                out.extend(vhost.get("routes") or [])
    return out


def cluster_services(dump: dict[str, Any]) -> dict[str, str]:
    """Cluster name → `ns_service_port` (the alt_stat_name Contour sets, spec §3.4)."""
    return {str((i.get("cluster") or {}).get("name", "")):
            str((i.get("cluster") or {}).get("alt_stat_name", ""))
            for i in section(dump, "clusters").get("dynamic_active_clusters") or []}


PATH_MATCHERS = ("prefix", "path", "safe_regex")
"""The path specifiers the controller writes (controller/envoy/route_match.py)."""


def envoy_path(route: dict[str, Any], matcher: str) -> Any:
    """The value of an Envoy route's path matcher (`prefix`, `path` or `safe_regex`)."""
    value = (route.get("match") or {}).get(matcher)
    return value.get("regex") if isinstance(value, dict) else value


def dag_path(route: Any) -> tuple[str, str]:
    """(Envoy path matcher, value) the controller writes for a DAG route."""
    return ("safe_regex" if route.regex else "path" if route.exact else "prefix", route.match)
