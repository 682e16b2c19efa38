"""`switch FROM TO`: repoint every root entry that leads to FROM (IngressRoute delegate
routes, HTTPProxy includes) so that it leads to TO."""

from __future__ import annotations

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
    from kubectl_contour.queries.switch import SwitchPlan

HELP = """Blue/green switch: repoint every root IngressRoute route that delegates to FROM,
or every root HTTPProxy include that names FROM, so that it leads to TO ([KIND/][NS/]NAME;
KIND is ingressroute or httpproxy, needed only when both kinds have the name; a name found in
several namespaces needs -n or NS/NAME). FROM and TO are of the same kind. Before writing,
checks that TO exists, is valid once switched (the controller's own builder runs on the
switched objects) and has ready endpoints; shows the change and asks (--yes skips,
--dry-run only shows). Each root is patched atomically (JSON patch with `test` ops on the
exact route or include). --wait polls Envoy's admin config until it routes to TO (exit 5 on
--timeout). `switch TO FROM` rolls back."""


def register(app: typer.Typer) -> None:
    @app.command("switch", help=HELP, short_help=COMMANDS["switch"])
    def switch(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(metavar="FROM")],
        target: Annotated[str, typer.Argument(metavar="TO")],
        root: Annotated[str, typer.Option(help="Only this root ([KIND/][NS/]NAME).",
                                          metavar="ROOT")] = "",
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
        dry_run: Annotated[bool, typer.Option(help="Only show the change.")] = False,
        wait: Annotated[bool, typer.Option(help="Wait until Envoy serves TO.")] = False,
        timeout: Annotated[float, typer.Option(help="Seconds --wait waits.")] = 60.0,
        admin_url: AdminUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        session = session_of(ctx)
        session.output = output
        if session.offline and not dry_run:
            raise_usage("--from-dir is read-only: add --dry-run, or drop --from-dir")
        plan, after = prepare(session, source=source, target=target, root=root)
        emit(session, plan, lambda rich: view(plan, rich=rich))
        if not plan.ok:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in plan.checks if not c.ok)
            raise_refused(f"refusing to switch: {failed}")
        if dry_run:
            return
        confirm(session, yes=yes)
        apply(session, plan)
        if wait:
            wait_for_envoy(session, after, plan, timeout=timeout, admin_url=admin_url,
                           namespace=envoy_namespace, selector=selector)


def raise_usage(message: str) -> None:
    from kubectl_contour.errors import UsageError

    raise UsageError(message)


def raise_refused(message: str) -> None:
    from kubectl_contour.errors import CheckFailed

    raise CheckFailed(message)


def prepare(session: Any, *, source: str, target: str, root: str) -> tuple[SwitchPlan, Any]:
    """The plan with its checks, and the DAG the switched objects build."""
    import dataclasses

    from kubectl_contour.queries.statuses import resolve, resolve_proxy, split_kind
    from kubectl_contour.queries.switch import checks, plan_switch, switched

    snapshot = session.snapshot()
    ns = session.options.namespace or None
    gateway_kind = backend_switch_kind(snapshot, source, root, namespace=ns)
    if gateway_kind is not None:
        return prepare_backends(session, snapshot, gateway_kind, source=source,
                                target=target, root=root)
    kind, from_key = resolve_proxy(snapshot, source, namespace=ns)
    to_kind = split_kind(target)[0]
    if to_kind not in (None, kind):
        raise_usage(f"FROM is a {kind} and TO a {to_kind}: switch within one kind")
    to_key = resolve(snapshot, kind, split_kind(target)[1], namespace=ns)
    root_key = resolve(snapshot, kind, split_kind(root)[1], namespace=ns) if root else None
    plan = plan_switch(snapshot, source=from_key, target=to_key, root=root_key, kind=kind)
    objects = switched(snapshot, plan)
    after = session.build(objects)
    plan = dataclasses.replace(plan, checks=tuple(checks(objects, after, plan)))
    return plan, after


def backend_switch_kind(snapshot: Any, source: str, root: str, *,
                        namespace: str | None) -> str | None:
    """HTTPRoute or GRPCRoute when this is a backendRef switch: --root names such a route,
    or FROM is no IngressRoute or HTTPProxy but a Service (then HTTPRoutes are switched)."""
    from kubectl_contour.errors import NotFound
    from kubectl_contour.queries.statuses import resolve_proxy, split_kind

    root_kind = split_kind(root)[0] if root else None
    if root_kind in ("HTTPRoute", "GRPCRoute"):
        return root_kind
    if root_kind is not None or split_kind(source)[0] is not None:
        return None
    try:
        resolve_proxy(snapshot, source, namespace=namespace)
    except NotFound:
        return "HTTPRoute" if any(o for o in snapshot.of_kind("Service")
                                  if o["metadata"].get("name") == source.rpartition("/")[2]) \
            else None
    return None


def prepare_backends(session: Any, snapshot: Any, kind: str, *, source: str, target: str,
                     root: str) -> tuple[SwitchPlan, Any]:
    """A backendRef switch's plan with its checks, and the DAG the switched routes build."""
    import dataclasses

    from kubectl_contour.queries.statuses import resolve, split_kind
    from kubectl_contour.queries.switch import checks, switched
    from kubectl_contour.queries.switch_gateway import plan_backend_switch

    ns = session.options.namespace or None
    from_key = resolve(snapshot, "Service", source, namespace=ns)
    to_key = resolve(snapshot, "Service", target, namespace=ns or from_key[0])
    root_key = resolve(snapshot, kind, split_kind(root)[1], namespace=ns) if root else None
    plan = plan_backend_switch(snapshot, source=from_key, target=to_key, kind=kind,
                               root=root_key)
    objects = switched(snapshot, plan)
    after = session.build(objects)
    return dataclasses.replace(plan, checks=tuple(checks(objects, after, plan))), after


def confirm(session: Any, *, yes: bool, question: str = "Apply this switch?",
            cancelled: str = "switch cancelled") -> None:
    import sys

    from kubectl_contour.errors import CheckFailed, UsageError

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --yes (or --dry-run)")
    if not typer.confirm(question, default=False, err=True):
        raise CheckFailed(cancelled)


def apply(session: Any, plan: SwitchPlan) -> None:
    from kubectl_contour.errors import Conflict
    from kubectl_contour.queries.switch import patch_ops

    done: list[str] = []
    for root in plan.roots():
        try:
            session.kube.patch_proxy(plan.kind, namespace=root[0], name=root[1],
                                     ops=patch_ops(plan, root))
        except Conflict as exc:
            raise conflict_error(session, plan, root, done) from exc
        done.append(f"{root[0]}/{root[1]}")
        session.note(f"{plan.kind.lower()} {root[0]}/{root[1]} patched")


def conflict_error(session: Any, plan: SwitchPlan, root: Any, done: list[str]) -> Exception:
    """The root changed between our read and the patch: its `test` ops failed, so nothing
    was written to it. Say what we expected and what is there now."""
    from kubectl_contour.errors import Conflict, PluginError
    from kubectl_contour.queries.switch import conflict_lines

    try:
        now = session.kube.get_proxy(plan.kind, namespace=root[0], name=root[1])
    except PluginError:
        now = {}
    found = conflict_lines(plan, root, now)
    patched = f"; already patched: {', '.join(done)}" if done else ""
    return Conflict(f"{plan.kind} {root[0]}/{root[1]} changed since it was read, so it was "
                    f"not patched ({'; '.join(found)}){patched}",
                    hint="run the switch again to plan it against the current objects")


def wait_for_envoy(session: Any, after: Any, plan: SwitchPlan, *, timeout: float,
                   admin_url: str, namespace: str, selector: str) -> None:
    import time

    from kubectl_contour.commands.envoy_flags import envoy_fetchers
    from kubectl_contour.errors import PluginError, Timeout

    fetchers = envoy_fetchers(session, admin_url=admin_url, namespace=namespace,
                              selector=selector)
    deadline = time.monotonic() + timeout
    pending = {f.name for f in fetchers}
    last = ""
    while pending:
        for fetcher in fetchers:
            if fetcher.name not in pending:
                continue
            try:
                missing = envoy_missing(fetcher, after, plan)
            except PluginError as exc:
                missing = [exc.message]
            if not missing:
                pending.discard(fetcher.name)
                session.note(f"envoy {fetcher.name} serves {plan.target[0]}/{plan.target[1]}")
            last = "; ".join(missing)
        if pending and time.monotonic() >= deadline:
            raise Timeout(f"Envoy {', '.join(sorted(pending))} does not serve "
                          f"{plan.target[0]}/{plan.target[1]} after {timeout:g}s: {last}")
        if pending:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def envoy_missing(fetcher: Any, after: Any, plan: SwitchPlan) -> list[str]:
    """What Envoy does not route as expected yet (empty: it serves TO everywhere)."""
    from kubectl_contour.admin import get_dumps, get_json
    from kubectl_contour.queries.envoy import (
        cluster_services,
        envoy_path,
        route_clusters,
        route_dumps,
        vhost_routes,
    )
    from kubectl_contour.queries.switch import expected_backends

    fqdns = sorted({c.fqdn.lower() for c in plan.changes})
    dump = get_dumps(fetcher, route_dumps(fqdns))
    clusters = cluster_services(get_json(fetcher, "/config_dump?resource=dynamic_active_clusters"))
    expected = expected_backends(after, plan)
    missing = []
    for fqdn in fqdns:
        routes = vhost_routes(dump, fqdn)
        for (matcher, match), want in sorted(expected.items()):
            got = [{clusters.get(n, n) for n, _ in route_clusters(r)} for r in routes
                   if envoy_path(r, matcher) == match and "route" in r]
            if want not in got:
                missing.append(f"{fqdn}{match} not yet routed to {', '.join(sorted(want))}")
    return missing


def view(plan: SwitchPlan, *, rich: bool) -> Any:
    from kubectl_contour.render.text import sections, table

    def delegate(d: dict[str, Any]) -> str:
        if "backendRefs" in d:
            from kubectl_contour.queries.switch_gateway import refs_text

            return refs_text(d["backendRefs"])
        return f"{d['namespace']}/{d['name']}" if d.get("namespace") else str(d.get("name"))

    changes = table(["root", "fqdn", "route", "from", "to"],
                    [[f"{c.root[0]}/{c.root[1]}", c.fqdn, c.match, delegate(c.old),
                      delegate(c.new)] for c in plan.changes], rich=rich, title="Change:")
    checks = table(["check", "result", "detail"],
                   [[c.name, [("ok", "green")] if c.ok else [("FAILED", "bold red")], c.detail]
                    for c in plan.checks], rich=rich, title="Checks:")
    return sections([changes, checks], rich=rich)
