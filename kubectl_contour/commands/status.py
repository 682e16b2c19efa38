"""`status`: every IngressRoute, HTTPProxy and Ingress with its status and reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.status import StatusRow

HELP = """List every IngressRoute, HTTPProxy and Ingress with its status and reason, as the
controller computes them (IngressRoutes and HTTPProxies: valid/invalid/orphaned, an
HTTPProxy's reason being its first error, -o json|yaml adding its Valid condition with every
error and warning; Ingresses: served, partly served, not served, or ignored by class). In
cluster mode, a STORED column shows the status written on the object when it differs. Works
offline with --from-dir."""


def register(app: typer.Typer) -> None:
    @app.command("status", help=HELP, short_help=COMMANDS["status"])
    def status(ctx: typer.Context, output: Output = "") -> None:
        run(session_of(ctx), output=output)


def run(session: Any, *, output: str) -> None:
    from kubectl_contour.queries.status import status_rows

    session.output = output
    snapshot = session.snapshot()
    rows = status_rows(snapshot, session.build(), scope=session.scope(),
                       ingress_class=session.options.ingress_class)
    emit(session, rows, lambda rich: view(rows, live=snapshot.live, rich=rich))


def view(rows: list[StatusRow], *, live: bool, rich: bool) -> Any:
    from kubectl_contour.render.text import status_style, table

    if not rows:
        return "No IngressRoutes, HTTPProxies or Ingresses found."
    headers = ["namespace", "name", "kind", "hosts", "status", "reason"]
    show_stored = live and any(r.stored_status or r.stored_reason for r in rows)
    if show_stored:
        headers.append("stored")
    body = []
    for r in rows:
        row: list[Any] = [r.namespace, r.name, r.kind, r.hosts,
                          [(r.status or "-", status_style(r.status))], r.reason]
        if show_stored:
            row.append(f"{r.stored_status}: {r.stored_reason}"
                       if r.stored_status or r.stored_reason else "")
        body.append(row)
    return table(headers, body, rich=rich)
