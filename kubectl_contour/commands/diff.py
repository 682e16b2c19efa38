"""`diff`: what the controller serves versus what each Envoy holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrl,
    ContourSelector,
    ContourUrl,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.diff import DiffRow

HELP = """Compare what the controller serves (its /debug/xds: versions sent, acked and the last
NACK per Envoy node; --contour-url or a port-forward to every contour pod's port 6060, each
Envoy compared with the controller it is connected to) with what each Envoy holds (admin
/config_dump versions). Reports stale, NACKed and drifted versions and
Envoys not connected. Exits 1 when anything is not in sync.

With --to-dir NEW: the blast radius of a change instead. Both sides are built by the
controller's builder: --from-dir OLD against NEW, or the cluster's objects against the cluster
with NEW's objects applied over them (same kind, namespace and name replaced; nothing deleted).
Prints every route (listener, host, conditions) added, removed, re-pointed, re-weighted or
declared by other objects, with its backends and the objects that produced it, and every
object whose status changes (newly invalid, newly orphaned, ...). All namespaces unless -n.
Exits 1 when anything changes."""


def register(app: typer.Typer) -> None:
    @app.command("diff", help=HELP, short_help=COMMANDS["diff"])
    def diff(
        ctx: typer.Context,
        contour_url: ContourUrl = "",
        admin_url: AdminUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        contour_selector: ContourSelector = DEFAULT_SELECTOR,
        to_dir: Annotated[str, typer.Option(
            help="Blast radius: compare with the objects of this folder (see above).",
            metavar="DIR")] = "",
        output: Output = "",
    ) -> None:
        session = session_of(ctx)
        session.output = output
        if to_dir or session.offline:
            from kubectl_contour.commands.diff_dirs import run

            run(session, to_dir=to_dir)
            return
        rows = collect(session, contour_url=contour_url, admin_url=admin_url,
                       namespace=envoy_namespace, selector=selector,
                       contour_selector=contour_selector)
        emit(session, rows, lambda rich: view(rows, rich=rich))
        from kubectl_contour.queries.diff import drifted

        if drifted(rows):
            from kubectl_contour.errors import CheckFailed

            raise CheckFailed("Envoy configuration differs from what the controller serves")


def collect(session: Any, *, contour_url: str, admin_url: str, namespace: str, selector: str,
            contour_selector: str) -> list[DiffRow]:
    from kubectl_contour.admin import get_json
    from kubectl_contour.commands.envoy_flags import contour_fetchers, envoy_fetchers
    from kubectl_contour.queries.diff import EnvoyView, diff_rows

    # every controller: each Envoy is compared with the one it is connected to
    debugs = [{**get_json(f, "/debug/xds"), "resources": get_json(f, "/debug/xds/resources")}
              for f in contour_fetchers(session, contour_url=contour_url, namespace=namespace,
                                        selector=contour_selector)]
    envoys = []
    for fetcher in envoy_fetchers(session, admin_url=admin_url, namespace=namespace,
                                  selector=selector):
        info = get_json(fetcher, "/server_info")
        node = str((info.get("node") or {}).get("id") or
                   (info.get("command_line_options") or {}).get("service_node") or fetcher.name)
        envoys.append(EnvoyView(node, fetcher.name, get_json(fetcher, "/config_dump")))
    return diff_rows(debugs, envoys)


def view(rows: list[DiffRow], *, rich: bool) -> Any:
    from kubectl_contour.render.text import status_style, table

    if not rows:
        return "No Envoy found."
    return table(["node", "type", "serving", "sent", "acked", "envoy", "state", "detail"],
                 [[r.node, r.type, r.serving or "-", r.sent or "-", r.acked or "-",
                   r.envoy or "-", [(r.state, status_style(r.state) or "bold red")],
                   r.detail] for r in rows], rich=rich)
