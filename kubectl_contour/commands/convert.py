"""`convert [NAME]`: IngressRoutes (and v1beta1 TLSCertificateDelegations) as HTTPProxies."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kubectl_contour.commands.common import session_of
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

HELP = """Convert IngressRoutes (contour.heptio.com/v1beta1) to HTTPProxies
(projectcontour.io/v1), and v1beta1 TLSCertificateDelegations to v1, from the cluster or
--from-dir, as YAML on stdout (-o json: a v1 List), ready for `kubectl apply -f -`. The
conversion is lossless: websockets, permitInsecure, retry and timeout policies, upstream
validation and protocol, health checks (interval included) and tcpproxy delegates all carry
over; a child's routes become relative to its include. A field with no exact HTTPProxy
equivalent is converted as closely as possible, with a warning on stderr."""


def register(app: typer.Typer) -> None:
    @app.command("convert", help=HELP, short_help=COMMANDS["convert"])
    def convert(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Only this IngressRoute (NAME or NS/NAME).",
                                            show_default=False)] = "",
        output: Output = "",
    ) -> None:
        run(session_of(ctx), name=name, output=output)


def run(session: Any, *, name: str, output: str) -> None:
    from kubectl_contour.objects import INGRESSROUTE, key_of
    from kubectl_contour.queries.convert import convert, served_by
    from kubectl_contour.queries.statuses import resolve

    snapshot = session.snapshot()
    result = convert(snapshot.objects, served_by(session.build()))
    scope = session.scope()
    if name:
        only = resolve(snapshot, INGRESSROUTE, name, namespace=session.options.namespace or None)
        objects = [o for o in result.objects
                   if key_of(o) == only and o["kind"] == "HTTPProxy"]
    else:
        objects = [o for o in result.objects if scope is None or key_of(o)[0] == scope]
    for warning in result.warnings:
        session.note(f"warning: {warning}")
    session.print(render(objects, output or "yaml"))


def render(objects: list[dict[str, Any]], fmt: str) -> str:
    """Multi-document YAML, or a v1 List as JSON (what `kubectl get -o json` prints)."""
    import json

    import yaml

    from kubectl_contour.errors import UsageError

    if fmt == "json":
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2)
    if fmt != "yaml":
        raise UsageError(f"unknown output format {fmt!r}; use one of: json, yaml")
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False) for o in objects)
