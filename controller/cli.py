"""`contour`: builds the typer app from the command bodies of `controller.cli_commands` and
runs it. The `contour` console script is `main`.

All registration happens here, explicitly, when this module is imported: `app` is complete
(serve, bootstrap, cli lds|rds|srds|cds|eds|sds, demo) for whoever imports it, and the command
module never imports this one back (tests/test_layering.py forbids the cycle).
"""

from __future__ import annotations

import sys

import typer

from controller import cli_commands as cmd
from controller.config import ConfigError


def build_app() -> typer.Typer:
    """The `contour` command tree with every command and flag registered."""
    root = typer.Typer(add_completion=False, no_args_is_help=True,
                       pretty_exceptions_enable=False,
                       help="Contour: an Envoy xDS controller for IngressRoute and Ingress.")
    root.command()(cmd.serve)
    root.command()(cmd.bootstrap)
    root.add_typer(build_xds_app(), name="cli")
    root.command()(cmd.demo)
    return root


def build_xds_app() -> typer.Typer:
    """`contour cli`: one sub-command per xDS type, sharing `cli_options`."""
    xds = typer.Typer(help="Print what a running contour serves over xDS.",
                      no_args_is_help=True)
    xds.callback()(cmd.cli_options)
    for short in cmd.TYPES:
        xds.command(short, help=f"Print the {short.upper()} resources (optionally only NAMEs)."
                    )(cmd.xds_command(short))
    return xds


app = build_app()


def main() -> None:
    """Run `contour`; a refused flag combination exits 2 with Contour's message."""
    try:
        app()
    except ConfigError as err:
        print(f"contour: {err}", file=sys.stderr)
        raise SystemExit(2) from err
