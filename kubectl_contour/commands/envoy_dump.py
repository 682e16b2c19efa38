"""`envoy-dump [POD]`: Envoy's configuration from its admin interface, keys redacted."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kubectl_contour.commands.common import session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrl,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

HELP = """Show Envoy's configuration from its admin interface (/config_dump, with ?include_eds
for endpoints, and /clusters?format=json): through a port-forward to an Envoy pod (port 9001;
POD, or every pod matching --selector in --envoy-namespace) or directly with --admin-url.
Tables by default; -o json|yaml gives the raw dump. Private keys are always redacted."""

TYPE_CHOICES = ("listeners", "routes", "clusters", "endpoints", "secrets", "all")


def register(app: typer.Typer) -> None:
    @app.command("envoy-dump", help=HELP, short_help=COMMANDS["envoy-dump"])
    def envoy_dump(
        ctx: typer.Context,
        pod: Annotated[str, typer.Argument(help="An Envoy pod (default: every matching pod).",
                                           show_default=False)] = "",
        kind: Annotated[str, typer.Option("--type", "-t", help="What to show: " +
                                          "|".join(TYPE_CHOICES) + ".")] = "all",
        admin_url: AdminUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        session = session_of(ctx)
        session.output = output
        kinds = chosen_types(kind)
        from kubectl_contour.commands.envoy_flags import envoy_fetchers

        fetchers = envoy_fetchers(session, admin_url=admin_url, namespace=envoy_namespace,
                                  selector=selector, pod=pod)
        dumps = {f.name: fetch(f, kinds) for f in sorted(fetchers, key=lambda f: f.name)}
        if output:
            from kubectl_contour.render.output import dump

            session.print(dump(dumps if len(dumps) > 1 else next(iter(dumps.values())),
                               fmt=output))
            return
        session.print(view(dumps, kinds, rich=session.rich))


def chosen_types(kind: str) -> tuple[str, ...]:
    from kubectl_contour.errors import UsageError
    from kubectl_contour.queries.envoy import TYPES

    if kind not in TYPE_CHOICES:
        raise UsageError(f"--type {kind!r}: use one of {', '.join(TYPE_CHOICES)}")
    return TYPES if kind == "all" else (kind,)


def fetch(fetcher: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
    """The redacted config dump (with EDS when endpoints are asked for) and /clusters."""
    from kubectl_contour.admin import get_json
    from kubectl_contour.queries.envoy import redact

    path = "/config_dump?include_eds" if "endpoints" in kinds else "/config_dump"
    out = {"config_dump": redact(get_json(fetcher, path))}
    if "endpoints" in kinds:
        out["clusters"] = redact(get_json(fetcher, "/clusters?format=json"))
    return out


def view(dumps: dict[str, dict[str, Any]], kinds: tuple[str, ...], *, rich: bool) -> Any:
    from kubectl_contour.queries import envoy
    from kubectl_contour.render.text import sections, table

    parts = []
    for name, data in dumps.items():
        dump = data["config_dump"]
        for kind in kinds:
            rows = (envoy.endpoint_rows(data.get("clusters") or {}) if kind == "endpoints"
                    else envoy.DUMP_ROWS[kind](dump))
            title = f"{name}: {kind}"
            parts.append(table(rows.headers, rows.rows, rich=rich, title=title)
                         if rows.rows else f"{title}: none")
    return sections(parts, rich=rich)
