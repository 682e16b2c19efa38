"""`wait`: block until an IngressRoute, HTTPProxy or Ingress is programmed on every
connected Envoy (or valid), at the generation the cluster holds now."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    ContourSelector,
    ContourUrl,
    EnvoyNamespace,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

HELP = """Wait until [KIND/]NAME (ingressroute/, httpproxy/, ingress/, httproute/, grpcroute/
or tlsroute/; NAME alone: any of them) is programmed: every Envoy connected to a controller
serves the object's current generation (the cluster's metadata.generation), as every
contour pod's /debug/programmed says (--contour-url: that controller's alone).
--for valid waits only for the builder to accept that generation.

Exit codes: 0 done; 1 the object is invalid at the deadline, or an Envoy rejected (NACKed)
it; 3 no such object in the cluster; 4 cluster or controller unreachable; 5 timeout (the
message names the Envoys still stale)."""
POLL_SECONDS = 0.2


def register(app: typer.Typer) -> None:
    @app.command("wait", help=HELP, short_help=COMMANDS["wait"])
    def wait(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="[KIND/]NAME", metavar="[KIND/]NAME")],
        goal: Annotated[str, typer.Option(
            "--for", help="programmed or valid.", metavar="programmed|valid")] = "programmed",
        timeout: Annotated[float, typer.Option(help="Seconds to wait.", metavar="S")] = 60.0,
        contour_url: ContourUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        contour_selector: ContourSelector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        from kubectl_contour.commands.envoy_flags import contour_fetchers

        session = session_of(ctx)
        session.output = output
        target, generation = resolve(session, name, goal)
        # every controller: in manifests/' layout each one serves only its own pod's Envoy
        contours = contour_fetchers(session, contour_url=contour_url,
                                    namespace=envoy_namespace, selector=contour_selector)
        message = poll(contours, target, goal=goal, generation=generation, timeout=timeout)
        done = {"kind": target.kind, "namespace": target.namespace, "name": target.name,
                "generation": generation, "for": goal, "message": message}
        emit(session, done, lambda rich: f"{target.kind.lower()}/{target.name} "
                                         f"{goal} ({message})")


def resolve(session: Any, text: str, goal: str) -> tuple[Any, int | None]:
    """The target with its kind and its generation in the cluster (UsageError, NotFound)."""
    from kubectl_contour.errors import UsageError
    from kubectl_contour.queries.programmed import parse_target

    if goal not in ("programmed", "valid"):
        raise UsageError(f"--for must be programmed or valid, not {goal!r}")
    target = parse_target(text, session.scope() or "default")
    if target is None:
        raise UsageError(f"{text!r}: KIND must be ingressroute, httpproxy, ingress, "
                         "httproute, grpcroute or tlsroute")
    return found_in_cluster(session, target)


def found_in_cluster(session: Any, target: Any) -> tuple[Any, int | None]:
    from dataclasses import replace

    from kubectl_contour.errors import NotFound, UsageError
    from kubectl_contour.queries.programmed import ROUTING_KINDS

    kinds = [target.kind] if target.kind else list(ROUTING_KINDS)
    found = []
    for kind in kinds:
        obj = session.kube.get_routing_object(kind, namespace=target.namespace,
                                              name=target.name)
        if obj is not None:
            found.append((kind, (obj.get("metadata") or {}).get("generation")))
    if not found:
        raise NotFound(f"no {' or '.join(kinds)} {target.namespace}/{target.name}")
    if len(found) > 1:
        raise UsageError(f"{target.name!r} names a {' and a '.join(k for k, _ in found)} in "
                         f"{target.namespace}: say which, e.g. httpproxy/{target.name}")
    kind, generation = found[0]
    return replace(target, kind=kind), generation if isinstance(generation, int) else None


def poll(contours: list[Any], target: Any, *, goal: str, generation: int | None,
         timeout: float) -> str:
    """Poll every controller's /debug/programmed until the combined verdict is final; return
    the READY message or raise CheckFailed (NACKed; invalid at the deadline) or Timeout."""
    from kubectl_contour.errors import CheckFailed, Timeout
    from kubectl_contour.queries.programmed import FAILED, READY, combined

    deadline = time.monotonic() + timeout
    while True:
        result = combined([one_verdict(c, target, goal=goal, generation=generation)
                           for c in contours])
        if result.state == READY:
            return result.message
        if result.state == FAILED:
            raise CheckFailed(f"{target.kind} {target.namespace}/{target.name} was rejected "
                              f"by Envoy: {result.message}")
        if time.monotonic() >= deadline:
            if result.message.startswith("invalid") or result.message.startswith("orphaned"):
                raise CheckFailed(f"{target.kind} {target.namespace}/{target.name} is "
                                  f"{result.message}")
            raise Timeout(f"{target.kind} {target.namespace}/{target.name} not {goal} after "
                          f"{timeout:g}s: {result.message}")
        time.sleep(POLL_SECONDS)


def one_verdict(contour: Any, target: Any, *, goal: str, generation: int | None) -> Any:
    """One controller's verdict on the target, from its /debug/programmed."""
    from kubectl_contour.admin import get_json
    from kubectl_contour.queries.programmed import matching_rows, verdict

    rows = matching_rows(list(get_json(contour, "/debug/programmed") or []), target)
    return verdict(rows[0] if rows else None, goal=goal, generation=generation)
