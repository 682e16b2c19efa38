"""`contour cli lds|rds|cds|eds|sds [NAME...]` and `contour demo` (registered on import)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from controller.cli import UsageError, app
from controller.envoy import type_urls as t

cli_app = typer.Typer(help="Print what a running contour serves over xDS.", no_args_is_help=True)
app.add_typer(cli_app, name="cli")

TYPES = {"lds": t.LISTENER_TYPE, "rds": t.ROUTE_TYPE, "cds": t.CLUSTER_TYPE,
         "eds": t.ENDPOINT_TYPE, "sds": t.SECRET_TYPE}


@cli_app.callback()
def cli_options(
    ctx: typer.Context,
    contour: Annotated[str, typer.Option(help="The contour xDS address.")] = "127.0.0.1:8001",
    cafile: Annotated[str, typer.Option(envvar="CLI_CAFILE")] = "",
    cert_file: Annotated[str, typer.Option(envvar="CLI_CERT_FILE")] = "",
    key_file: Annotated[str, typer.Option(envvar="CLI_KEY_FILE")] = "",
    output: Annotated[str, typer.Option("-o", "--output", help="yaml or json.")] = "yaml",
    watch: Annotated[bool, typer.Option(help="Keep printing each new version.")] = False,
) -> None:
    files = [f for f in (cafile, cert_file, key_file) if f]
    if len(files) not in (0, 3):
        raise UsageError("You must supply all three TLS parameters - --cafile, --cert-file, "
                         "--key-file, or none of them.")
    if output not in ("yaml", "json"):
        raise UsageError(f"-o {output}: expected yaml or json")
    ctx.obj = {"address": contour, "tls": (cafile, cert_file, key_file) if files else None,
               "output": output, "watch": watch}


def _credentials(tls: tuple[str, str, str] | None) -> object:
    if tls is None:
        return None
    import grpc

    ca, cert, key = (Path(p).read_bytes() for p in tls)
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                        certificate_chain=cert)


async def _print_stream(opts: dict, type_url: str, names: list[str]) -> None:
    from controller.xds.client import decode, render, watch

    async for response in watch(opts["address"], type_url, names,
                                credentials=_credentials(opts["tls"])):
        sys.stdout.write(render(decode(response), opts["output"]))
        sys.stdout.flush()
        if not opts["watch"]:
            return


def _make(short: str) -> None:
    @cli_app.command(short, help=f"Print the {short.upper()} resources (optionally only NAMEs).")
    def command(ctx: typer.Context, names: Annotated[list[str] | None, typer.Argument()] = None,
                ) -> None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_print_stream(ctx.obj, TYPES[short], names or []))


for _short in TYPES:
    _make(_short)


@app.command()
def demo(
    examples: Annotated[str, typer.Option(help="Folder of objects to serve.")] = "",
    http_port: Annotated[int, typer.Option(help="Envoy's HTTP listener.")] = 8080,
    https_port: Annotated[int, typer.Option(help="Envoy's HTTPS listener.")] = 8443,
    admin_port: Annotated[int, typer.Option(help="Envoy's admin port.")] = 9001,
    xds_port: Annotated[int, typer.Option(help="The controller's xDS port.")] = 8001,
) -> None:
    """Run the controller on a folder (default: the bundled examples/), a bundled Envoy
    and demo backends for every Endpoints address in the folder."""
    from controller.demo import run_demo

    raise SystemExit(run_demo(examples=examples, http_port=http_port, https_port=https_port,
                              admin_port=admin_port, xds_port=xds_port))
