"""`route HOST[/PATH]`: a dry-run of one request through the DAG the controller builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.route import Explanation

HELP = """Dry-run one request: the virtual host and route Envoy would pick (and why the others
did not match: which path, header or query condition failed), the IngressRoute delegation or
HTTPProxy include chain behind it (from the route's provenance), services with weights and ready
endpoints, the effective timeout/retry/rewrite, and the answer: 404 (no vhost or no route),
301 (TLS redirect), 503 (no ready endpoints) or 200. Exits 1 unless the request would be
forwarded to a ready endpoint or redirected. Works offline with --from-dir."""


def register(app: typer.Typer) -> None:
    @app.command("route", help=HELP, short_help=COMMANDS["route"])
    def route(
        ctx: typer.Context,
        target: Annotated[str, typer.Argument(metavar="HOST[/PATH]",
                                              help="e.g. example.com/api/v1")],
        header: Annotated[list[str] | None, typer.Option(
            "--header", "-H", help="Request header K=V (repeatable); Host overrides HOST.",
            metavar="K=V")] = None,
        scheme: Annotated[str, typer.Option(help="http or https.")] = "http",
        output: Output = "",
    ) -> None:
        run(session_of(ctx), target=target, headers=header or [], scheme=scheme, output=output)


def parse_headers(items: list[str]) -> tuple[tuple[str, str], ...]:
    from kubectl_contour.errors import UsageError

    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise UsageError(f"--header {item!r}: expected K=V")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def run(session: Any, *, target: str, headers: list[str], scheme: str, output: str) -> None:
    from kubectl_contour.errors import CheckFailed, UsageError
    from kubectl_contour.queries.route import Request, explain, parse_target

    if scheme not in ("http", "https"):
        raise UsageError(f"--scheme {scheme!r}: use http or https")
    session.output = output
    host, path = parse_target(target)
    pairs = parse_headers(headers)
    host = next((v.lower().rsplit(":", 1)[0] for k, v in pairs if k.lower() == "host"), host)
    model = explain(session.snapshot(), session.build(), Request(host, path, scheme, pairs))
    emit(session, model, lambda rich: view(model, rich=rich))
    if model.status not in (200, 301):
        raise CheckFailed(model.summary)


def view(m: Explanation, *, rich: bool) -> Any:
    from kubectl_contour.render.text import Node, sections, table, tree

    req = m.request
    style = "green" if m.status in (200, 301) else "bold red"
    head = Node([(f"{req.scheme}://{req.host}{req.path}", "bold"), (" → ", "dim"),
                 (m.summary, style)], [Node([(f"vhost: {m.vhost}", "")])] if m.vhost else [])
    parts: list[Any] = [tree([head], rich=rich)]
    if m.candidates:
        rows = [[c.conditions or c.match,
                 [(c.verdict + (f": {c.reason}" if c.reason else ""),
                   "green" if c.verdict == "matched" else "dim")]]
                for c in m.candidates]
        parts.append(table(["conditions", "verdict"], rows, rich=rich,
                           title="Routes in Envoy order:"))
    if m.chain:
        parts.append(table(["kind", "object", "route", "status"],
                           [[c.kind, f"{c.namespace}/{c.name}", c.match,
                             f"{c.status}: {c.reason}" if c.status else "-"] for c in m.chain],
                           rich=rich, title="Delegation chain:"))
    if m.backends:
        parts.append(table(["service", "port", "share", "ready", "not ready"],
                           [[f"{b.namespace}/{b.service}", b.port, f"{b.share:g}%",
                             [(str(b.ready), "green" if b.ready else "bold red")],
                             b.not_ready] for b in m.backends],
                           rich=rich, title="Upstreams:"))
        endpoints = endpoint_rows(m)
        if endpoints:
            parts.append(table(["service", "target", "ready", "address"], endpoints, rich=rich,
                               title="Endpoints:"))
    if m.policy:
        parts.append(table(["policy", "value"], [list(p) for p in m.policy], rich=rich,
                           title="Effective policy:"))
    notes = [*(f"! {p}" for p in m.problems), *(f"note: {n}" for n in m.notes)]
    if notes:
        parts.append("\n".join(notes))
    return sections(parts, rich=rich)


def endpoint_rows(m: Explanation) -> list[list[Any]]:
    """Every endpoint of every upstream with traffic, address:port last (IPv6 bracketed)."""
    rows: list[list[Any]] = []
    for b in m.backends:
        for e in b.endpoints if b.share > 0 else ():
            host = f"[{e.address}]" if ":" in e.address else e.address
            rows.append([f"{b.namespace}/{b.service}", e.target or "-",
                         [("yes", "green")] if e.ready else [("no", "bold red")],
                         f"{host}:{e.port}"])
    return rows
