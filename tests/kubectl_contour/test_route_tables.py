"""The one route-table reader (`queries.envoy.route_tables`) and what reads through it, from
config dumps: the real Envoy's scoped reads kept by test_real_route_tables.py (golden
fixtures) and hand-made dumps for the shapes around them; `diff`'s scoped rows and
`proxy-status`'s SRDS column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_contour.queries import envoy
from kubectl_contour.queries.diff import EnvoyView, diff_rows
from kubectl_contour.queries.programmed import in_use

FIXTURES = Path(__file__).parent / "fixtures" / "envoy"
T = "type.googleapis.com/envoy.admin.v3."
HOSTS = [f"app-{i}.bench.example.com" for i in range(3)]
SCOPED = envoy.TYPE_URLS["scopedroutes"]
ROUTES = envoy.TYPE_URLS["routes"]


def golden(layout: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{layout}-routes.json").read_text()))


def table(name: str, *hosts: str) -> dict[str, Any]:
    return {"name": name, "virtual_hosts": [
        {"name": h, "domains": [h], "routes": [{"match": {"prefix": "/"},
                                                "route": {"cluster": f"c/{h}"}}]}
        for h in hosts]}


def scope(name: str, inline: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "key": {"fragments": [{"string_key": name}]}}
    if inline is None:
        out["route_configuration_name"] = name
    else:
        out["route_configuration"] = inline
    return out


# the full dump's shape (one entry per dump type) and `?resource=`'s (one per resource)
FULL = {"configs": [
    {"@type": T + "ScopedRoutesConfigDump", "dynamic_scoped_route_configs": [
        {"name": "ingress_http", "version_info": "s7", "scoped_route_configs": [
            scope("ingress_http/b.io", table("ingress_http/b.io", "b.io")),
            scope("ingress_http/a.io", table("ingress_http/a.io", "a.io")),
            scope("ingress_http/rds.io", None)]}]},
    {"@type": T + "RoutesConfigDump", "dynamic_route_configs": [
        {"version_info": "r2", "route_config": table("https/a.io", "a.io")},
        {"version_info": "r3", "route_config": table("ingress_http/rds.io", "rds.io")}]},
]}
PER_RESOURCE = {"configs": [
    {"@type": T + "RoutesConfigDump.DynamicRouteConfig", **item}
    for item in FULL["configs"][1]["dynamic_route_configs"]] + [
    {"@type": T + "ScopedRoutesConfigDump.DynamicScopedRouteConfigs", **group}
    for group in FULL["configs"][0]["dynamic_scoped_route_configs"]]}


@pytest.mark.parametrize("dump", [FULL, PER_RESOURCE], ids=["full", "per-resource"])
def test_route_tables_reads_rds_and_inline_scoped_tables_sorted(dump: dict[str, Any]) -> None:
    got = [(t.name, t.version, t.scope) for t in envoy.route_tables(dump)]
    assert got == [("https/a.io", "r2", ""),
                   ("ingress_http/a.io", "s7", "ingress_http/a.io"),
                   ("ingress_http/b.io", "s7", "ingress_http/b.io"),
                   # a scope naming its table for RDS: the table is the RDS one, once
                   ("ingress_http/rds.io", "r3", "")]
    assert envoy.held_resources(dump, "scopedroutes") == {
        f"ingress_http/{h}": "s7" for h in ("a.io", "b.io", "rds.io")}
    assert envoy.held_resources(dump, "routes") == {"https/a.io": "r2",
                                                    "ingress_http/rds.io": "r3"}
    assert envoy.type_versions(dump, "scopedroutes") == ("s7",)
    assert envoy.type_versions(dump, "routes") == ("r2", "r3")


@pytest.mark.parametrize(("dump", "tables"), [
    ({}, []),
    ({"configs": [{"@type": T + "ScopedRoutesConfigDump"}]}, []),
    # scopes being drained away: the set stays, empty
    ({"configs": [{"@type": T + "ScopedRoutesConfigDump", "dynamic_scoped_route_configs": [
        {"name": "ingress_http", "version_info": "s9"}]}]}, []),
    # a scope without a name carries its table's
    ({"configs": [{"@type": T + "ScopedRoutesConfigDump", "dynamic_scoped_route_configs": [
        {"scoped_route_configs": [{"route_configuration": {"name": "t"}}]}]}]},
     [("t", "", "")]),
])
def test_route_tables_of_sparse_dumps(dump: dict[str, Any], tables: list[Any]) -> None:
    assert [(t.name, t.version, t.scope) for t in envoy.route_tables(dump)] == tables


@pytest.mark.parametrize("layout", ["scoped", "scoped-inline"])
def test_the_real_envoys_scoped_dumps(layout: str) -> None:
    dump = golden(layout)
    tables = envoy.route_tables(dump)
    assert [t.name for t in tables] == [f"ingress_http/{h}" for h in HOSTS]
    inline = layout == "scoped-inline"
    assert [t.scope for t in tables] == [t.name if inline else "" for t in tables]
    assert len({t.version for t in tables}) == (1 if inline else 3)
    assert sorted(envoy.held_resources(dump, "scopedroutes")) == [t.name for t in tables]
    [route] = envoy.vhost_routes(dump, HOSTS[1])
    assert route["route"]["prefix_rewrite"] == "/p/"
    rows = envoy.route_rows(dump).rows
    assert [r[0] for r in rows] == [t.name for t in tables]
    assert [r[4] for r in rows] == [t.version for t in tables]


def debug_of(versions: dict[str, str], acked: dict[str, str],
             resources: dict[str, dict[str, str]] | None = None, *,
             serial: int = 1) -> dict[str, Any]:
    """A delta node's /debug/xds that acked `acked` (type URL → version) and holds content
    serial 1 of each; `serial` is the controller's."""
    return {"versions": versions, "serials": {t: serial for t in versions},
            "resources": resources or {},
            "nodes": [{"node": "n", "protocol": "delta", "types": {
                t: {"sent": v, "acked": v, "held": 1, "nack": None}
                for t, v in acked.items()}}]}


INLINE = golden("scoped-inline")
SET_VERSION = envoy.type_versions(INLINE, "scopedroutes")[0]
NAMES = {f"ingress_http/{h}": "x" for h in HOSTS}


@pytest.mark.parametrize(("debug", "state", "detail"), [
    (debug_of({SCOPED: SET_VERSION}, {SCOPED: SET_VERSION}, {SCOPED: NAMES}), "ok", ""),
    # the versions the controller lists per scope are not compared: Envoy shows none
    (debug_of({SCOPED: SET_VERSION}, {SCOPED: SET_VERSION}), "ok", ""),
    (debug_of({SCOPED: "v9"}, {SCOPED: SET_VERSION}, {SCOPED: NAMES}, serial=2), "stale",
     "serving v9"),
    (debug_of({SCOPED: SET_VERSION}, {SCOPED: "v0"}), "drift", "the controller saw 'v0'"),
    (debug_of({SCOPED: SET_VERSION}, {SCOPED: SET_VERSION},
              {SCOPED: {**NAMES, "ingress_http/new.io": "x"}}), "drift",
     "Envoy lacks ingress_http/new.io, which the controller serves"),
    (debug_of({SCOPED: SET_VERSION}, {SCOPED: SET_VERSION}, {SCOPED: dict(
        list(NAMES.items())[1:])}), "drift",
     f"Envoy holds ingress_http/{HOSTS[0]}, which the controller does not serve"),
])
def test_diff_compares_scopes_by_their_sets_version_then_names(
        debug: dict[str, Any], state: str, detail: str) -> None:
    [row] = [r for r in diff_rows(debug, [EnvoyView("n", "pod", INLINE)])
             if r.type == "scopedroutes"]
    assert (row.state, row.envoy) == (state, SET_VERSION)
    assert detail in row.detail


def test_diff_has_a_scoped_row_only_where_scopes_are_in_use() -> None:
    """Served, subscribed or held: a row; none of them (today's single table): no row."""
    def kinds(debug: dict[str, Any], dump: dict[str, Any]) -> list[str]:
        return [r.type for r in diff_rows(debug, [EnvoyView("n", "pod", dump)])]

    classic = ["listeners", "routes", "clusters", "endpoints", "secrets"]
    scoped = ["listeners", "routes", "scopedroutes", "clusters", "endpoints", "secrets"]
    assert kinds(debug_of({ROUTES: "r"}, {ROUTES: "r"}), {}) == classic
    assert kinds(debug_of({SCOPED: "s"}, {}), {}) == scoped
    assert kinds(debug_of({}, {SCOPED: "s"}), {}) == scoped
    assert kinds(debug_of({}, {}), INLINE) == scoped


def test_proxy_status_shows_srds_only_while_in_use() -> None:
    layout = {"scopedroutes": SCOPED}
    assert in_use([debug_of({ROUTES: "r"}, {ROUTES: "r"})], layout) == {}
    assert in_use([debug_of({ROUTES: "r"}, {}), debug_of({SCOPED: "s"}, {})],
                  layout) == layout
    assert in_use([debug_of({}, {SCOPED: "s"})], layout) == layout


def test_route_dumps_narrows_the_scopes_to_the_hosts_asked() -> None:
    from urllib.parse import parse_qs, urlsplit

    assert envoy.route_dumps() == envoy.ROUTE_DUMPS
    rds, scoped = envoy.route_dumps(["B.io", "a.io", "b.io"])
    assert rds == envoy.ROUTE_DUMPS[0]
    query = parse_qs(urlsplit(scoped).query)
    assert query == {"resource": ["dynamic_scoped_route_configs"],
                     "name_regex": [r"(?i).*/(?:a\.io|b\.io)"]}
