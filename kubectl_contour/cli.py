"""kubectl-contour: the root command, the global (kubectl) flags and the error boundary.

Keep imports here light: `kubectl contour --help` and completions must answer fast, so
kubernetes, rich and controller.* are imported only inside the commands that need them.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kubectl_contour.errors import EXIT_CODES_HELP, PluginError
from kubectl_contour.flags import hoist_global_flags
from kubectl_contour.session import Options, Session

HELP = f"""Inspect and operate Contour IngressRoutes and HTTPProxies: delegation and include
trees, request dry-runs, endpoints, blue/green switches, Envoy config and controller/Envoy
drift.

{EXIT_CODES_HELP}"""


class RootGroup(TyperGroup):
    """Hoists kubectl's global flags and is the single error boundary."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_flags(list(args)))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PluginError as exc:
            report(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(super().list_commands(ctx))


def report(exc: PluginError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        typer.echo(f"hint: {exc.hint}", err=True)


app = typer.Typer(
    cls=RootGroup, help=HELP, no_args_is_help=True, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    pretty_exceptions_enable=False, rich_markup_mode=None,
)


@app.callback()
def root(
    ctx: typer.Context,
    kubeconfig: Annotated[str, typer.Option(
        help="Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).",
        metavar="PATH")] = "",
    context: Annotated[str, typer.Option(help="The kubeconfig context to use.",
                                         metavar="NAME")] = "",
    namespace: Annotated[str, typer.Option(
        "--namespace", "-n", help="Namespace to show (default: the context's; all namespaces "
        "with --from-dir).", metavar="NS")] = "",
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A",
                                                 help="Show every namespace.")] = False,
    from_dir: Annotated[str, typer.Option(
        help="Read manifests from this folder instead of a cluster (offline).",
        metavar="DIR")] = "",
    ingress_class: Annotated[str, typer.Option(
        help="The controller's --ingress-class-name.", metavar="CLASS")] = "contour",
    root_namespaces: Annotated[str, typer.Option(
        help="The controller's --ingressroute-root-namespaces.", metavar="NS,NS")] = "",
    disable_permit_insecure: Annotated[bool, typer.Option(
        "--disable-permit-insecure",
        help="The controller runs with disablePermitInsecure.")] = False,
    color: Annotated[bool | None, typer.Option(
        "--color/--no-color", help="Force colour on or off (default: on a terminal).")] = None,
) -> None:
    ctx.obj = Session(Options(
        kubeconfig=kubeconfig, context=context, namespace=namespace,
        all_namespaces=all_namespaces, from_dir=from_dir, ingress_class=ingress_class,
        root_namespaces=root_namespaces, disable_permit_insecure=disable_permit_insecure,
        color=color,
    ))


def register_commands() -> None:
    from kubectl_contour.commands import (
        analyze,
        certs,
        convert,
        diff,
        endpoints,
        envoy_dump,
        proxy_status,
        rollout,
        route,
        status,
        switch,
        tree,
        wait,
    )

    for module in (tree, switch, route, endpoints, envoy_dump, status, diff, convert, certs,
                   wait, proxy_status, analyze, rollout):
        module.register(app)


register_commands()


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["__complete"] or args[:1] == ["__completeNoDesc"]:
        from kubectl_contour.completion import complete

        sys.exit(complete(args[1:], describe=args[0] == "__complete"))
    app(args=args, prog_name="kubectl contour")
