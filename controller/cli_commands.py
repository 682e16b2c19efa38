"""The bodies of `contour`'s commands: serve, bootstrap, `cli lds|rds|srds|cds|eds|sds [NAME...]`
and demo, with the flag rules they share (spec §4: refusals are a UsageError, exit 2).

Plain functions: `controller.cli` builds the typer app and registers them, so this module
never imports the app (no registration by import side effect, no cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from controller.config import (
    BuilderSettings,
    ConfigError,
    ListenerSettings,
    Settings,
    TLSFiles,
    parse_route_layout,
    parse_tls_version,
)
from controller.config_ratelimit import rate_limit_settings
from controller.envoy import type_urls as t

Opt = typer.Option


class UsageError(ConfigError):
    """A flag combination Contour refuses (exit 2 with the message)."""


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def load_config_file(path: str | None) -> dict[str, Any]:
    """The -c YAML file: `disablePermitInsecure`, `tls.minimum-protocol-version`, ..."""
    if not path:
        return {}
    import yaml

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"-c/--config-path {path}: no such file")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"-c/--config-path {path}: {err}") from err
    if not isinstance(data, dict):
        raise UsageError(f"-c/--config-path {path}: expected a mapping")
    return data


def root_namespaces(value: str) -> frozenset[str]:
    """`--root-namespaces a,b` → {"a", "b"} (blanks dropped)."""
    return frozenset(p.strip() for p in value.split(",") if p.strip())


FALLBACK_CERTIFICATE = "tls.fallback-certificate"


def namespaced_name(flag: str, value: str) -> tuple[str, str] | None:
    """`NS/NAME` → (NS, NAME); "" → None; anything else is a UsageError."""
    if not value:
        return None
    ns, _, name = value.partition("/")
    if not ns or not name or "/" in name:
        raise UsageError(f"{flag} {value}: expected NAMESPACE/NAME")
    return ns, name


def port_range(flag: str, value: str) -> tuple[int, int] | None:
    """`FROM-TO` (1024 < FROM <= TO < 65536) → (FROM, TO); "" → None; else a UsageError."""
    if not value:
        return None
    low, _, high = value.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 < int(low) <= int(high) < 65536):
        raise UsageError(f"{flag} {value}: expected FROM-TO, ports above 1024")
    return int(low), int(high)


def fallback_certificate(tls_cfg: dict[str, Any]) -> tuple[str, str] | None:
    """The config file's `tls.fallback-certificate: {name, namespace}` as (namespace, name),
    None when absent; a ConfigError naming the key when it is not two non-empty strings."""
    value = tls_cfg.get("fallback-certificate")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"name", "namespace"}:
        raise ConfigError(f"-c/--config-path: {FALLBACK_CERTIFICATE} must be a mapping with "
                          f"exactly `name` and `namespace`, got {value!r}")
    parts = []
    for key in ("namespace", "name"):
        given = value.get(key)
        if not isinstance(given, str) or not given.strip():
            raise ConfigError(f"-c/--config-path: {FALLBACK_CERTIFICATE}.{key} must be a "
                              f"non-empty string, got {given!r}")
        parts.append(given.strip())
    return (parts[0], parts[1])


def tls_files(insecure: bool, cafile: str, certfile: str, keyfile: str) -> TLSFiles:
    """The serve TLS files: none with --insecure, else all three (a UsageError if not)."""
    tls = TLSFiles(cafile, certfile, keyfile)
    if insecure:
        return TLSFiles()
    if tls.given() == 0:
        raise UsageError("no TLS parameters and --insecure not supplied. "
                         "You must supply one or the other")
    if tls.given() != 3:
        raise UsageError("you must supply all three TLS parameters - --contour-cafile, "
                         "--contour-cert-file, --contour-key-file, or none of them")
    return tls


def serve(
    source_dir: Annotated[str, Opt(help="Read objects from YAML/JSON files under DIR.")] = "",
    config_path: Annotated[str, Opt("-c", "--config-path", help="YAML config file.")] = "",
    incluster: Annotated[bool, Opt(help="Use the in-cluster kube config.")] = False,
    kubeconfig: Annotated[str, Opt(help="Kubeconfig path.")] = "",
    xds_address: Annotated[str, Opt()] = "127.0.0.1",
    xds_port: Annotated[int, Opt()] = 8001,
    stats_address: Annotated[str, Opt()] = "0.0.0.0",
    stats_port: Annotated[int, Opt()] = 8002,
    debug_http_address: Annotated[str, Opt()] = "127.0.0.1",
    debug_http_port: Annotated[int, Opt()] = 6060,
    http_address: Annotated[str, Opt()] = "0.0.0.0",
    http_port: Annotated[int, Opt()] = 8000,
    contour_cafile: Annotated[str, Opt(envvar="CONTOUR_CAFILE")] = "",
    contour_cert_file: Annotated[str, Opt(envvar="CONTOUR_CERT_FILE")] = "",
    contour_key_file: Annotated[str, Opt(envvar="CONTOUR_KEY_FILE")] = "",
    insecure: Annotated[bool, Opt(help="Serve gRPC in plaintext.")] = False,
    roots: Annotated[str, Opt(
        "--root-namespaces", "--ingressroute-root-namespaces", metavar="NS,NS",
        help="Namespaces where root HTTPProxies and IngressRoutes may live.")] = "",
    ingress_class_name: Annotated[str, Opt()] = "",
    envoy_http_access_log: Annotated[str, Opt()] = "/dev/stdout",
    envoy_https_access_log: Annotated[str, Opt()] = "/dev/stdout",
    envoy_service_http_address: Annotated[str, Opt()] = "0.0.0.0",
    envoy_service_http_port: Annotated[int, Opt()] = 8080,
    envoy_service_https_address: Annotated[str, Opt()] = "0.0.0.0",
    envoy_service_https_port: Annotated[int, Opt()] = 8443,
    use_proxy_protocol: Annotated[bool, Opt()] = False,
    enable_leader_election: Annotated[bool, Opt()] = False,
    gateway_controller_name: Annotated[str, Opt(
        help="The GatewayClass controllerName this controller accepts.")] = (
        "projectcontour.io/gateway-controller"),
    gateway_ref: Annotated[str, Opt(
        metavar="NS/NAME", help="The one Gateway to serve (default: every Gateway of an "
                                "accepted GatewayClass).")] = "",
    envoy_service: Annotated[str, Opt(
        metavar="NS/NAME", help="The Service in front of the Envoys: its addresses are the "
                                "Gateway's.")] = "heptio-contour/contour",
    gateway_listener_ports: Annotated[str, Opt(
        metavar="FROM-TO", help="Isolate Gateways: Envoy listeners of each Gateway's own on "
                                "ports of this range, and a Service per Gateway.")] = "",
    route_layout: Annotated[str, Opt(
        help="Port 80's routing: single (one route table) or scoped (one scope per host; "
             "config file key route-layout).")] = "",
    debug: Annotated[bool, Opt(help="Debug logging.")] = False,
) -> None:
    """Serve xDS to Envoy from a folder of objects (--source-dir) or a cluster."""
    _setup_logging(debug)
    if source_dir and not Path(source_dir).is_dir():
        raise UsageError(f"--source-dir {source_dir}: not a directory")
    first_reader = None
    if source_dir:  # first, so the reader's start overlaps the imports below
        from controller.sources.first_read import prestarted_reader

        first_reader = prestarted_reader(Path(source_dir), "controller.sources.folder")
    cfg = load_config_file(config_path)
    tls_cfg = cfg.get("tls") if isinstance(cfg.get("tls"), dict) else {}
    settings = Settings(
        builder=BuilderSettings(
            root_namespaces=root_namespaces(roots),
            ingress_class=ingress_class_name or "contour",
            disable_permit_insecure=bool(cfg.get("disablePermitInsecure", False)),
            fallback_certificate=fallback_certificate(tls_cfg or {}),
            gateway_controller_name=gateway_controller_name,
            gateway_ref=namespaced_name("--gateway-ref", gateway_ref),
            envoy_service=namespaced_name("--envoy-service", envoy_service)
            or ("heptio-contour", "contour"),
            gateway_ports=port_range("--gateway-listener-ports", gateway_listener_ports),
            rate_limit_service=rate_limit_settings(cfg),
        ),
        listeners=ListenerSettings(
            http_address=envoy_service_http_address, http_port=envoy_service_http_port,
            https_address=envoy_service_https_address, https_port=envoy_service_https_port,
            http_access_log=envoy_http_access_log, https_access_log=envoy_https_access_log,
            use_proxy_protocol=use_proxy_protocol, stats_address=stats_address,
            stats_port=stats_port,
            min_tls_version=parse_tls_version((tls_cfg or {}).get("minimum-protocol-version")),
            route_layout=parse_route_layout(route_layout, "--route-layout") if route_layout
            else parse_route_layout(cfg.get("route-layout", "single"), "route-layout"),
        ),
        xds_address=xds_address, xds_port=xds_port, insecure=insecure,
        tls=tls_files(insecure, contour_cafile, contour_cert_file, contour_key_file),
        debug_address=debug_http_address, debug_port=debug_http_port,
        metrics_address=http_address, metrics_port=http_port, source_dir=source_dir,
        kubeconfig=kubeconfig or str(cfg.get("kubeconfig") or ""),
        incluster=incluster or bool(cfg.get("incluster", False)),
        enable_leader_election=enable_leader_election,
        namespace=os.environ.get("CONTOUR_NAMESPACE", "heptio-contour"),
    )
    from controller.app import serve as run_serve

    asyncio.run(run_serve(settings, first_reader=first_reader))


def bootstrap(
    path: Annotated[str, typer.Argument(help="Where to write Envoy's bootstrap JSON.")],
    admin_address: Annotated[str, Opt()] = "127.0.0.1",
    admin_port: Annotated[int, Opt()] = 9001,
    xds_address: Annotated[str, Opt()] = "127.0.0.1",
    xds_port: Annotated[int, Opt()] = 8001,
    envoy_cafile: Annotated[str, Opt(envvar="ENVOY_CAFILE")] = "",
    envoy_cert_file: Annotated[str, Opt(envvar="ENVOY_CERT_FILE")] = "",
    envoy_key_file: Annotated[str, Opt(envvar="ENVOY_KEY_FILE")] = "",
    namespace: Annotated[str, Opt(envvar="CONTOUR_NAMESPACE")] = "heptio-contour",
    cluster_stats: Annotated[str, Opt(
        help="Envoy's per-cluster stats: essential (requests, response classes, request "
             "time, health, outliers, membership; fast at 10k+ clusters), all (Envoy's "
             "default) or none.")] = "essential",
    exclude_cluster_stats: Annotated[bool, Opt(
        help="Same as --cluster-stats none.")] = False,
    xds_protocol: Annotated[str, Opt(
        help="ADS flavour Envoy asks for: delta (incremental, the default: a change sends "
             "only what changed, much faster at 10k+ clusters) or sotw (state of the "
             "world).")] = "delta",
) -> None:
    """Write an Envoy v3 bootstrap (ADS to this controller) to PATH."""
    from controller.envoy.bootstrap import CLUSTER_STATS, XDS_PROTOCOLS

    tls = TLSFiles(envoy_cafile, envoy_cert_file, envoy_key_file)
    if tls.given() not in (0, 3):
        raise UsageError("You must supply all three TLS parameters - --envoy-cafile, "
                         "--envoy-cert-file, --envoy-key-file, or none of them.")
    if cluster_stats not in CLUSTER_STATS:
        raise UsageError(f"--cluster-stats must be one of {', '.join(CLUSTER_STATS)}")
    if xds_protocol not in XDS_PROTOCOLS:
        raise UsageError(f"--xds-protocol must be one of {', '.join(XDS_PROTOCOLS)}")
    from controller.envoy.bootstrap import bootstrap_json

    text = bootstrap_json(
        admin_address=admin_address or "127.0.0.1", admin_port=admin_port or 9001,
        xds_address=xds_address or "127.0.0.1", xds_port=xds_port or 8001,
        namespace=namespace or "heptio-contour", cafile=tls.cafile, certfile=tls.certfile,
        keyfile=tls.keyfile, exclude_cluster_stats=exclude_cluster_stats,
        cluster_stats=cluster_stats, xds_protocol=xds_protocol)
    Path(path).write_text(text)


TYPES = {"lds": t.LISTENER_TYPE, "rds": t.ROUTE_TYPE, "srds": t.SCOPED_ROUTE_TYPE,
         "cds": t.CLUSTER_TYPE, "eds": t.ENDPOINT_TYPE, "sds": t.SECRET_TYPE}
"""`contour cli`'s sub-commands; `srds` prints the scopes of `--route-layout scoped` (the
HTTP listener's route tables, inline; nothing while the layout falls back to one table)."""


def cli_options(
    ctx: typer.Context,
    contour: Annotated[str, typer.Option(help="The contour xDS address.")] = "127.0.0.1:8001",
    cafile: Annotated[str, typer.Option(envvar="CLI_CAFILE")] = "",
    cert_file: Annotated[str, typer.Option(envvar="CLI_CERT_FILE")] = "",
    key_file: Annotated[str, typer.Option(envvar="CLI_KEY_FILE")] = "",
    output: Annotated[str, typer.Option("-o", "--output", help="yaml or json.")] = "yaml",
    watch: Annotated[bool, typer.Option(help="Keep printing each new version.")] = False,
) -> None:
    """`contour cli`'s shared flags, checked and left in `ctx.obj` for the sub-command."""
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


def xds_command(short: str) -> Callable[..., None]:
    """The `contour cli SHORT [NAME...]` command: print the SHORT resources (one of TYPES)
    the contour at `--contour` serves, optionally only those named."""

    def command(ctx: typer.Context, names: Annotated[list[str] | None, typer.Argument()] = None,
                ) -> None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_print_stream(ctx.obj, TYPES[short], names or []))

    return command


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
