"""`endpoints SERVICE | HOST[/PATH]`: pod addresses behind a Service or a route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.endpoints import EndpointRow

HELP = """Show pod addresses and ports behind a Service (NAME or NS/NAME, every port) or behind
the route (of an IngressRoute, HTTPProxy or Ingress) a request to HOST[/PATH] takes (an
argument with a dot or a slash after the host is a HOST), with readiness. Works offline
with --from-dir."""


def register(app: typer.Typer) -> None:
    @app.command("endpoints", help=HELP, short_help=COMMANDS["endpoints"])
    def endpoints(
        ctx: typer.Context,
        target: Annotated[str, typer.Argument(metavar="SERVICE | HOST[/PATH]")],
        scheme: Annotated[str, typer.Option(help="For HOST: http or https.")] = "http",
        output: Output = "",
    ) -> None:
        run(session_of(ctx), target=target, scheme=scheme, output=output)


def is_host(target: str) -> bool:
    """Service names are DNS labels (no dots); `ns/name` has no dot either."""
    host = target.split("/", 1)[0]
    return "." in host or ":" in host


def run(session: Any, *, target: str, scheme: str, output: str) -> None:
    session.output = output
    snapshot = session.snapshot()
    rows = route_rows(session, snapshot, target, scheme) if is_host(target) \
        else service_rows_for(session, snapshot, target)
    emit(session, rows, lambda rich: view(rows, rich=rich))


def service_rows_for(session: Any, snapshot: Any, target: str) -> list[EndpointRow]:
    from kubectl_contour.objects import SERVICE
    from kubectl_contour.queries.endpoints import service_rows
    from kubectl_contour.queries.statuses import resolve

    namespace = session.options.namespace or None
    if namespace is None and "/" not in target and not session.offline:
        namespace = session.scope()
    key = resolve(snapshot, SERVICE, target, namespace=namespace)
    return service_rows(snapshot, key)


def route_rows(session: Any, snapshot: Any, target: str, scheme: str) -> list[EndpointRow]:
    from kubectl_contour.errors import NotFound
    from kubectl_contour.queries.endpoints import service_rows
    from kubectl_contour.queries.route import Request, explain, parse_target

    host, path = parse_target(target)
    model = explain(snapshot, session.build(), Request(host, path, scheme))
    if not model.backends:
        raise NotFound(f"{host}{path}: {model.summary}")
    rows: list[EndpointRow] = []
    for b in model.backends:
        rows.extend(service_rows(snapshot, (b.namespace, b.service), port=b.port))
    return rows


def view(rows: list[EndpointRow], *, rich: bool) -> Any:
    from kubectl_contour.render.text import table

    if not rows:
        return "No endpoints."
    return table(
        ["namespace", "service", "port", "address", "target port", "ready", "target"],
        [[r.namespace, r.service, f"{r.port}" + (f"/{r.port_name}" if r.port_name else ""),
          r.address, r.target_port, [("yes", "green")] if r.ready else [("no", "bold red")],
          r.target or "-"] for r in rows],
        rich=rich,
    )
