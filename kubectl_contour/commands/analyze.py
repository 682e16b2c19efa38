"""`analyze`: coded findings about the objects (cluster, --from-dir, or --apply-dir files
applied over the cluster), in the spirit of `istioctl analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrl,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.objects import Snapshot

HELP = """Report problems the controller would meet, each with a severity (error, warning,
info), a stable code (CTR1001...; docs/plugin.md lists them), the object, a message and a
fix hint: orphans, missing delegates and includes, invalid objects, shadowed routes,
Services without ready endpoints, weights that send nothing, fqdns claimed twice, TLS
secrets used across namespaces without delegation, certificates expired, expiring within
30 days or not naming their host, objects of another ingress class, and (cluster mode, when
an Envoy admin is reachable) failing health checks. Reads the cluster, --from-dir DIR, or
--apply-dir DIR: the folder's objects applied over the cluster's (same kind, namespace and
name replace). Exits 1 when anything at error severity is found."""


def register(app: typer.Typer) -> None:
    @app.command("analyze", help=HELP, short_help=COMMANDS["analyze"])
    def analyze(
        ctx: typer.Context,
        apply_dir: Annotated[str, typer.Option(
            help="Simulate applying this folder's manifests over the cluster's objects.",
            metavar="DIR")] = "",
        admin_url: AdminUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        session = session_of(ctx)
        session.output = output
        envoy = (admin_url, envoy_namespace, selector)
        run(session, apply_dir=apply_dir, envoy=envoy)


def run(session: Any, *, apply_dir: str, envoy: tuple[str, str, str]) -> None:
    from datetime import UTC, datetime

    from kubectl_contour.errors import CheckFailed
    from kubectl_contour.queries.analyze import analyze, counts, has_errors, inputs_for
    from kubectl_contour.render.analyze import findings_view

    snapshot = snapshot_for(session, apply_dir)
    inputs = inputs_for(snapshot, session.builder_settings(), now=datetime.now(UTC),
                        envoys=envoy_clusters(session, *envoy))
    findings = analyze(inputs, scope=session.scope())
    tally = counts(findings)
    emit(session, findings, lambda rich: findings_view(findings, tally, rich=rich))
    if has_errors(findings):
        raise CheckFailed(f"analyze found {tally['error']} error(s)")


def snapshot_for(session: Any, apply_dir: str) -> Snapshot:
    """The cluster's or --from-dir's objects; with --apply-dir, the folder over the
    cluster."""
    from kubectl_contour import sources
    from kubectl_contour.errors import UsageError
    from kubectl_contour.queries.blast import overlay

    if not apply_dir:
        return session.snapshot()  # type: ignore[no-any-return]
    if session.offline:
        raise UsageError("--apply-dir overlays a cluster: drop --from-dir",
                         hint="--from-dir DIR alone analyzes the folder by itself")
    return overlay(session.snapshot(), sources.load_dir(Path(apply_dir)))


def envoy_clusters(session: Any, admin_url: str, namespace: str,
                   selector: str) -> tuple[tuple[str, Any], ...]:
    """Each reachable Envoy's /clusters?format=json. --admin-url must answer (exit 4 when
    it does not); without it the Envoy pods are tried and health checks are skipped, with
    a note, when none answers. A folder has no Envoy: skipped."""
    from kubectl_contour.errors import PluginError, UsageError

    if session.offline:
        if admin_url:
            raise UsageError("--admin-url judges a cluster's Envoy: drop --from-dir")
        return ()
    try:
        return fetch_clusters(session, admin_url, namespace, selector)
    except PluginError as exc:
        if admin_url:
            raise
        session.note(f"note: health checks not analyzed: {exc.message}")
        return ()


def fetch_clusters(session: Any, admin_url: str, namespace: str,
                   selector: str) -> tuple[tuple[str, Any], ...]:
    from kubectl_contour.admin import get_json
    from kubectl_contour.commands.envoy_flags import envoy_fetchers

    fetchers = envoy_fetchers(session, admin_url=admin_url, namespace=namespace,
                              selector=selector)
    return tuple((f.name, get_json(f, "/clusters?format=json"))
                 for f in sorted(fetchers, key=lambda f: f.name))
