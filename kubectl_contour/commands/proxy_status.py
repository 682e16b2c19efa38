"""`proxy-status`: one row per Envoy the controller knows, in the spirit of
`istioctl proxy-status`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    ContourSelector,
    ContourUrl,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.programmed import ProxyRow

HELP = """Every Envoy connected to a controller (each contour pod's /debug/xds, or --contour-url's
alone): node, pod, the version it acked per xDS type (SRDS too while scoped route tables
are in use), and its state: synced (it holds everything the controller serves),
stale (a newer version is not acknowledged yet), nacked (it rejected the last response; the
last error is shown) or disconnected. `diff` compares versions with each Envoy's own
config_dump. Exits 1 when any connected Envoy is not synced."""
SHORT = {"clusters": "CDS", "endpoints": "EDS", "secrets": "SDS", "listeners": "LDS",
         "routes": "RDS"}
LAYOUT_SHORT = {"scopedroutes": "SRDS"}
"""Shown only while a controller serves them or an Envoy asked for them (`in_use`)."""


def register(app: typer.Typer) -> None:
    @app.command("proxy-status", help=HELP, short_help=COMMANDS["proxy-status"])
    def proxy_status(
        ctx: typer.Context,
        contour_url: ContourUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        contour_selector: ContourSelector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        from kubectl_contour.admin import get_json
        from kubectl_contour.commands.envoy_flags import contour_fetchers
        from kubectl_contour.queries.envoy import TYPE_URLS
        from kubectl_contour.queries.programmed import in_use, merged_proxy_rows, proxy_rows

        session = session_of(ctx)
        session.output = output
        pods = envoy_pods(session, envoy_namespace, selector)
        # every controller (manifests/: one per pod, each with its own Envoy)
        debugs = [get_json(f, "/debug/xds") for f in contour_fetchers(
            session, contour_url=contour_url, namespace=envoy_namespace,
            selector=contour_selector)]
        types = {t: TYPE_URLS[t] for t in SHORT} | in_use(
            debugs, {t: TYPE_URLS[t] for t in LAYOUT_SHORT})
        rows = merged_proxy_rows([proxy_rows(d, pods, types) for d in debugs])
        emit(session, rows, lambda rich: view(rows, rich=rich))
        if any(r.state not in ("synced", "disconnected") for r in rows):
            from kubectl_contour.errors import CheckFailed

            raise CheckFailed("some Envoys do not serve what the controller serves")


def envoy_pods(session: Any, namespace: str, selector: str) -> set[str]:
    """The Envoy pods' names; none when the cluster cannot be asked (the rows still show)."""
    from kubectl_contour.errors import PluginError

    try:
        return {p["metadata"]["name"] for p in session.kube.list_pods(namespace=namespace,
                                                                    selector=selector)}
    except PluginError:
        return set()


def view(rows: list[ProxyRow], *, rich: bool) -> Any:
    from kubectl_contour.render.text import status_style, table

    if not rows:
        return "No Envoy is connected to the controller."
    shown = list(rows[0].versions)
    titles = SHORT | LAYOUT_SHORT
    headers = ["node", "pod", "cluster", *(titles[t] for t in shown), "state", "last error"]
    return table(headers, [
        [r.node, r.pod or "-", r.cluster or "-", *(r.versions[t] or "-" for t in shown),
         [(r.state, status_style(r.state) or "bold red")], r.error or "-"] for r in rows],
        rich=rich)
