"""Envoy admin output: redaction, tables, `envoy-dump` and `diff` against a local fake admin
server (--admin-url / --contour-url), and the --wait check of `switch`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from goldens import check_golden
from typer.testing import CliRunner

from kubectl_contour.cli import app
from kubectl_contour.queries import envoy
from kubectl_contour.queries.diff import EnvoyView, diff_rows

T = "type.googleapis.com/envoy.admin.v3."
KEY = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----"
CONFIG_DUMP: dict[str, Any] = {"configs": [
    {"@type": T + "ListenersConfigDump", "version_info": "3", "dynamic_listeners": [
        {"name": "ingress_http", "active_state": {"version_info": "3", "listener": {
            "name": "ingress_http", "address": {"socket_address": {"address": "0.0.0.0",
                                                                    "port_value": 8080}},
            "filter_chains": [{}]}}},
        {"name": "ingress_https", "active_state": {"version_info": "3", "listener": {
            "name": "ingress_https", "address": {"socket_address": {"address": "0.0.0.0",
                                                                     "port_value": 8443}},
            "filter_chains": [{"filter_chain_match": {"server_names": ["www.example.com"]}}]}}},
    ]},
    {"@type": T + "ClustersConfigDump", "version_info": "5", "dynamic_active_clusters": [
        {"version_info": "5", "cluster": {"name": "default/green/80/da39a3ee5e", "type": "EDS",
                                          "alt_stat_name": "default_green_80",
                                          "eds_cluster_config": {
                                              "service_name": "default/green/http"}}}]},
    {"@type": T + "ScopedRoutesConfigDump"},  # a real Envoy dumps it before RoutesConfigDump
    {"@type": T + "RoutesConfigDump", "dynamic_route_configs": [
        {"version_info": "7", "route_config": {"name": "ingress_http", "virtual_hosts": [
            {"name": "blue-green.example.com",
             "domains": ["blue-green.example.com", "blue-green.example.com:*"],
             "routes": [{"match": {"prefix": "/"},
                         "route": {"cluster": "default/green/80/da39a3ee5e"}}]}]}}]},
    {"@type": T + "SecretsConfigDump", "dynamic_active_secrets": [
        {"name": "roots/www-tls/0123456789", "version_info": "2", "secret": {
            "name": "roots/www-tls/0123456789", "tls_certificate": {
                "certificate_chain": {"inline_bytes": "Y2VydA=="},
                "private_key": {"inline_bytes": "c2VjcmV0"}}}}]},
]}
CLUSTERS = {"cluster_statuses": [{"name": "default/green/80/da39a3ee5e", "host_statuses": [
    {"address": {"socket_address": {"address": "10.0.0.21", "port_value": 8080}},
     "health_status": {"eds_health_status": "HEALTHY"}}]}]}
TYPE = "type.googleapis.com/envoy.config."
DEBUG = {"versions": {envoy.TYPE_URLS[k]: v for k, v in
                      [("listeners", "3"), ("clusters", "6"), ("routes", "7"),
                       ("secrets", "2"), ("endpoints", "4")]},
         "nodes": [{"node": "envoy-0", "types": {
             envoy.TYPE_URLS["listeners"]: {"sent": "3", "acked": "3", "nack": None},
             envoy.TYPE_URLS["clusters"]: {"sent": "6", "acked": "5", "nack": None},
             envoy.TYPE_URLS["routes"]: {"sent": "7", "acked": "7", "nack": None},
             envoy.TYPE_URLS["secrets"]: {"sent": "2", "acked": "2", "nack": {
                 "version": "2", "error": "bad key", "time": "t"}},
             envoy.TYPE_URLS["endpoints"]: {"sent": "4", "acked": "4", "nack": None}}}]}


def test_redact_removes_every_private_key() -> None:
    doc = {"a": [{"private_key": {"inline_bytes": KEY}}, {"private_key": KEY}],
           "data": {"tls.key": KEY, "tls.crt": "cert"},
           "p": {"private_key": {"inline_string": KEY, "filename": "/k.pem"}}}
    text = json.dumps(envoy.redact(doc))
    assert KEY.split("\n")[1] not in text
    assert envoy.redact(doc)["p"]["private_key"] == {"inline_string": envoy.REDACTED,
                                                     "filename": "/k.pem"}
    assert envoy.redact(doc)["data"]["tls.crt"] == "cert"


def test_rows_and_versions() -> None:
    assert envoy.listener_rows(CONFIG_DUMP).rows[1] == (
        "ingress_https", "0.0.0.0:8443", "1", "www.example.com", "3")
    assert envoy.route_rows(CONFIG_DUMP).rows[0][2:4] == ("prefix /",
                                                          "→ default/green/80/da39a3ee5e")
    assert envoy.type_versions(CONFIG_DUMP, "clusters") == ("5",)
    assert envoy.type_versions(CONFIG_DUMP, "endpoints") == ()


def test_diff_states() -> None:
    rows = {r.type: r for r in diff_rows(DEBUG, [EnvoyView("envoy-0", "pod", CONFIG_DUMP)])}
    assert rows["listeners"].state == "ok"
    assert rows["clusters"].state == "stale"
    assert rows["secrets"].state == "nacked" and "bad key" in rows["secrets"].detail
    missing = diff_rows(DEBUG, [EnvoyView("envoy-9", "pod", CONFIG_DUMP)])
    assert {r.state for r in missing} == {"missing"}
    gone = {**DEBUG, "nodes": [{**DEBUG["nodes"][0], "connected": False}]}
    assert {r.state for r in diff_rows(gone, [EnvoyView("envoy-0", "pod", CONFIG_DUMP)])} == {
        "missing"}


def test_sections_as_a_real_envoy_dumps_them() -> None:
    """ScopedRoutesConfigDump is not RoutesConfigDump; `?resource=` answers per resource."""
    scoped_first = {"configs": [{"@type": T + "ScopedRoutesConfigDump"},
                                CONFIG_DUMP["configs"][3]]}
    assert envoy.section(scoped_first, "routes") == CONFIG_DUMP["configs"][3]
    per_resource = {"configs": [
        {"@type": T + "RoutesConfigDump.DynamicRouteConfig", "version_info": "7",
         "route_config": {"name": "ingress_http"}}]}
    assert envoy.section(per_resource, "routes") == {
        "dynamic_route_configs": per_resource["configs"]}
    assert envoy.section(per_resource, "clusters") == {}


class Admin(BaseHTTPRequestHandler):
    routes: dict[str, Any] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        body = self.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode() if body is not None else b"no")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def admin_url() -> Iterator[str]:
    Admin.routes = {
        "/config_dump": CONFIG_DUMP, "/config_dump?include_eds": CONFIG_DUMP,
        "/clusters?format=json": CLUSTERS, "/server_info": {"node": {"id": "envoy-0"}},
        "/debug/xds": DEBUG,
        "/debug/xds/resources": {},
        # a real Envoy answers ?resource= with one entry per resource, typed <Dump>.<Resource>
        "/config_dump?resource=dynamic_route_configs": {"configs": [
            {"@type": T + "RoutesConfigDump.DynamicRouteConfig", **item}
            for item in CONFIG_DUMP["configs"][3]["dynamic_route_configs"]]},
        # ... and `{}` for a field it holds nothing of (no scoped RDS here)
        "/config_dump?resource=dynamic_scoped_route_configs": {},
        envoy.route_dumps(["blue-green.example.com"])[1]: {},
        "/config_dump?resource=dynamic_active_clusters": {"configs": [
            {"@type": T + "ClustersConfigDump.DynamicCluster", **item}
            for item in CONFIG_DUMP["configs"][1]["dynamic_active_clusters"]]},
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Admin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_envoy_dump_tables(admin_url: str) -> None:
    result = CliRunner().invoke(app, ["envoy-dump", "--admin-url", admin_url])
    assert result.exit_code == 0, result.stderr
    check_golden("envoy-dump.txt", result.stdout.replace(admin_url, "ADMIN"))


def test_envoy_dump_raw_is_redacted(admin_url: str) -> None:
    result = CliRunner().invoke(app, ["envoy-dump", "--admin-url", admin_url, "-o", "json"])
    assert result.exit_code == 0
    assert "c2VjcmV0" not in result.stdout and envoy.REDACTED in result.stdout


def test_diff_command_exits_1_on_drift(admin_url: str) -> None:
    result = CliRunner().invoke(app, ["diff", "--admin-url", admin_url, "--contour-url",
                                      admin_url])
    assert result.exit_code == 1
    check_golden("diff.txt", result.stdout)


def test_unreachable_admin_exits_4() -> None:
    result = CliRunner().invoke(app, ["envoy-dump", "--admin-url", "http://127.0.0.1:9"])
    assert result.exit_code == 4
    assert "error: GET http://127.0.0.1:9/config_dump" in result.stderr


def test_switch_wait_check_sees_green(admin_url: str, fixtures_dir: Path) -> None:
    from controller.config import BuilderSettings
    from kubectl_contour.admin import UrlFetcher
    from kubectl_contour.commands.switch import envoy_missing
    from kubectl_contour.queries.build import build_dag
    from kubectl_contour.queries.switch import plan_switch, switched
    from kubectl_contour.sources import load_dir

    def after(snap: Any, plan: Any) -> Any:
        return build_dag(switched(snap, plan), settings=BuilderSettings())

    snapshot = load_dir(fixtures_dir)
    plan = plan_switch(snapshot, source=("default", "blue"), target=("default", "green"))
    assert envoy_missing(UrlFetcher(admin_url), after(snapshot, plan), plan) == []
    back = plan_switch(switched(snapshot, plan), source=("default", "green"),
                       target=("default", "blue"))
    assert envoy_missing(UrlFetcher(admin_url), after(switched(snapshot, plan), back),
                         back) == [
        "blue-green.example.com/ not yet routed to default_blue_80"]


def test_a_node_holding_the_current_serial_is_not_stale() -> None:
    """The serving version moved for resources the node does not ask for (a removed secret
    it unsubscribed from): nothing is owed, so the older acked version is in sync."""
    from kubectl_contour.queries.diff import diff_row

    state = {"sent": "v1", "acked": "v1", "held": 7}
    assert diff_row("n", "secrets", "v2", state, (), serial=7).state == "ok"
    assert diff_row("n", "secrets", "v2", state, (), serial=8).state == "stale"
    assert diff_row("n", "secrets", "v2", {"sent": "v1", "acked": "v1"}, ()).state == "stale"


def test_diff_compares_each_envoy_with_the_controller_it_is_connected_to() -> None:
    """manifests/' layout: one controller per pod, each with its own Envoy."""
    other = {**DEBUG, "nodes": [{**DEBUG["nodes"][0], "node": "envoy-1"}]}
    envoys = [EnvoyView(f"envoy-{i}", f"pod-{i}", CONFIG_DUMP) for i in (0, 1)]
    rows = diff_rows([DEBUG, other], envoys)
    assert {r.node for r in rows} == {"envoy-0", "envoy-1"}
    assert "missing" not in {r.state for r in rows}
    assert {r.state for r in diff_rows([DEBUG], envoys) if r.node == "envoy-1"} == {"missing"}


def test_diff_a_type_never_subscribed_and_not_held_is_ok() -> None:
    """A plain-HTTP Envoy never asks for secrets: that is not stale."""
    no_sds = {**DEBUG, "nodes": [{**DEBUG["nodes"][0], "types": {
        k: v for k, v in DEBUG["nodes"][0]["types"].items() if k != envoy.TYPE_URLS["secrets"]}}]}
    dump = {"configs": [c for c in CONFIG_DUMP["configs"] if "Secrets" not in c["@type"]]}
    rows = {r.type: r for r in diff_rows(no_sds, [EnvoyView("envoy-0", "pod", dump)])}
    assert rows["secrets"].state == "ok" and "not subscribed" in rows["secrets"].detail


DELTA_DUMP = {"configs": [
    {"@type": T + "RoutesConfigDump", "dynamic_route_configs": [
        {"version_info": "r1", "route_config": {"name": "ingress_http"}},
        {"version_info": "r2", "route_config": {"name": "https/a.example.com"}}]},
    {"@type": T + "SecretsConfigDump", "dynamic_active_secrets": [
        {"name": "default/tls/abc", "version_info": "s1"}]},
]}
ROUTES, SECRETS = envoy.TYPE_URLS["routes"], envoy.TYPE_URLS["secrets"]


def delta_debug(acked: str, served: dict[str, str], *, held: int = 0,
                nack: dict[str, str] | None = None) -> dict[str, Any]:
    state = {"sent": "v2", "acked": acked, "held": held, "nack": nack}
    return {"versions": {ROUTES: "v2", SECRETS: "v2"}, "serials": {ROUTES: 5, SECRETS: 5},
            "nodes": [{"node": "n", "connected": True, "protocol": "delta",
                       "types": {ROUTES: state, SECRETS: state}}],
            "resources": {ROUTES: served, SECRETS: {"default/tls/abc": "s1"}}}


CURRENT = {"ingress_http": "r1", "https/a.example.com": "r2"}


@pytest.mark.parametrize(("debug", "routes", "detail"), [
    # delta: per-resource versions equal to the controller's, current ack: in sync
    (delta_debug("v2", CURRENT), "ok", ""),
    # the node holds the current content serial though its acked version is older
    (delta_debug("v1", CURRENT, held=5), "ok", ""),
    # a route table at another version while the newest response is not acked yet
    (delta_debug("v1", {**CURRENT, "ingress_http": "r9"}), "stale", "serving v2"),
    # ... and after it was acked: Envoy holds something the controller does not serve
    (delta_debug("v2", {**CURRENT, "ingress_http": "r9"}), "drift",
     "Envoy holds ingress_http at 'r1', the controller serves 'r9'"),
    (delta_debug("v2", {"ingress_http": "r1"}), "drift", "serves 'nothing'"),
    # behind, but nothing in flight: the controller will never send what Envoy holds
    ({**delta_debug("v1", {}), "nodes": [{**delta_debug("v1", {})["nodes"][0], "types": {
        ROUTES: {"sent": "v1", "acked": "v1"}, SECRETS: {"sent": "v1", "acked": "v1"}}}]},
     "drift", "Envoy holds https/a.example.com at 'r2', the controller serves 'nothing' (+1"),
    # (its secrets match, but the node has not acked the current version: stale, as sotw)
    # every resource current, but the newest response not acked (a table it has yet to get)
    (delta_debug("v1", CURRENT), "stale", "Envoy acked 'v1'"),
    (delta_debug("v1", CURRENT, nack={"version": "v2", "error": "bad"}), "nacked",
     "version v2 rejected: bad"),
])
def test_a_delta_envoy_is_compared_resource_by_resource(
        debug: dict[str, Any], routes: str, detail: str) -> None:
    rows = {r.type: r for r in diff_rows(debug, [EnvoyView("n", "pod", DELTA_DUMP)])}
    assert (rows["routes"].state, rows["routes"].envoy) == (routes, "r1,r2")
    assert detail in rows["routes"].detail
    behind = debug["nodes"][0]["types"][SECRETS]["acked"] != "v2" and not debug["nodes"][0][
        "types"][SECRETS].get("held")
    assert rows["secrets"].state == ("nacked" if routes == "nacked" else
                                     "stale" if behind else "ok")


def test_a_sotw_envoy_with_the_same_dump_is_drift() -> None:
    """Under state-of-the-world every route table shows the response's version: per-resource
    versions there are a real mismatch."""
    debug = {**delta_debug("v2", CURRENT), "nodes": [
        {**delta_debug("v2", CURRENT)["nodes"][0], "protocol": "sotw"}]}
    rows = {r.type: r for r in diff_rows(debug, [EnvoyView("n", "pod", DELTA_DUMP)])}
    assert rows["routes"].state == "drift"


def test_the_envoy_column_shows_two_versions_then_a_count() -> None:
    from kubectl_contour.queries.diff import held_column

    assert held_column({}) == ""
    assert held_column({"a": "v1", "b": "v1"}) == "v1"
    assert held_column({"a": "v3", "b": "v1", "c": "v2", "d": "v4"}) == "v1,v2,+2"


def test_proxy_status_shows_srds_only_while_scopes_are_in_use(admin_url: str) -> None:
    def headers() -> list[str]:
        result = CliRunner().invoke(app, ["proxy-status", "--contour-url", admin_url])
        return result.stdout.splitlines()[0].split()

    assert "SRDS" not in headers()
    scoped = envoy.TYPE_URLS["scopedroutes"]
    node = DEBUG["nodes"][0]
    Admin.routes["/debug/xds"] = {**DEBUG, "nodes": [{**node, "types": {
        **node["types"], scoped: {"sent": "s1", "acked": "s1", "nack": None}}}]}
    assert headers()[headers().index("RDS") + 1] == "SRDS"
