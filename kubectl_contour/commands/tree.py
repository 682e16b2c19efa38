"""`tree [NAME]`: delegation and include chains from every root (or from one object)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, service_parts, session_of, status_parts
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.tree import ProxyNode, RouteNode, TreeView
    from kubectl_contour.render.text import Node, Part

HELP = """Show IngressRoute delegation trees, HTTPProxy include trees and Gateways (listeners →
attached HTTPRoutes, GRPCRoutes, TLSRoutes with their parents' verdicts → rule matches →
backendRefs with weights and ready endpoints; routes no Gateway accepted apart): each root's
fqdn and TLS secret, every route's match or conditions → services (port, weight, ready endpoints),
every delegation or include (with its conditions) → the child, and every object's status as
the controller computes it (HTTPProxy: the Valid condition's errors and warnings; in cluster
mode, also the stored status when it differs). Orphans are listed apart; cycles, missing
children and included roots are marked. Works offline with --from-dir."""


def register(app: typer.Typer) -> None:
    @app.command("tree", help=HELP, short_help=COMMANDS["tree"])
    def tree(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Only this object: [KIND/][NS/]NAME, KIND "
                                            "ingressroute, httpproxy or gateway.",
                                            show_default=False)] = "",
        output: Output = "",
    ) -> None:
        run(session_of(ctx), name=name, output=output)


def run(session: Any, *, name: str, output: str) -> None:
    from kubectl_contour.queries.gateway_tree import with_gateways

    session.output = output
    snapshot = session.snapshot()
    only = resolve_tree_root(snapshot, name, namespace=session.options.namespace or None) \
        if name else None
    model = with_gateways(snapshot, session.build(),
                          scope=None if only else session.scope(), only=only)
    emit(session, model, lambda rich: view(model, rich=rich))


def resolve_tree_root(snapshot: Any, name: str, *, namespace: str | None) -> Any:
    """`gateway/[NS/]NAME`, or an IngressRoute or HTTPProxy."""
    from kubectl_contour.queries.statuses import resolve, resolve_proxy, split_kind

    kind, rest = split_kind(name)
    if kind == "Gateway":
        return kind, resolve(snapshot, kind, rest, namespace=namespace)
    return resolve_proxy(snapshot, name, namespace=namespace)


def view(model: TreeView, *, rich: bool) -> Any:
    from kubectl_contour.commands.tree_gateway import gateway_parts
    from kubectl_contour.render.text import Node, sections, tree

    if not (model.roots or model.orphans or model.gateways or model.unattached):
        return "No IngressRoutes, HTTPProxies or Gateways found."
    parts = [tree([root_node(n) for n in model.roots], rich=rich)] if model.roots else []
    if model.orphans:
        orphans = [Node([(f"{n.namespace}/{n.name} ", "bold"),
                         *status_parts(n.status, n.reason), *stored_parts(n)],
                        detail_nodes(n) + route_nodes(n))
                   for n in model.orphans]
        parts.append(tree([Node([("Not reached from any root", "bold yellow")], orphans)],
                          rich=rich))
    return sections(parts + gateway_parts(model, rich=rich), rich=rich)


def root_node(n: ProxyNode) -> Node:
    from kubectl_contour.render.text import Node

    head: list[Part] = [(n.fqdn or "<no fqdn>", "bold cyan"), (f" ({n.namespace}/{n.name}) ", ""),
                        *status_parts(n.status, n.reason), *stored_parts(n)]
    children = detail_nodes(n) + route_nodes(n)
    if n.tls_secret:
        served = "served" if n.tls_served else "not served"
        children.insert(0, Node([(f"tls: secret {n.tls_secret} ({served})",
                                  "" if n.tls_served else "yellow")]))
    return Node(head, children)


def stored_parts(n: ProxyNode) -> list[Part]:
    if not (n.stored_status or n.stored_reason):
        return []
    text = n.stored_status + (f": {n.stored_reason}" if n.stored_reason else "")
    return [(f" (stored: {text})", "magenta")]


def detail_nodes(n: ProxyNode) -> list[Node]:
    """An HTTPProxy's further errors and its warnings (the first error is its reason)."""
    from kubectl_contour.render.text import Node

    return ([Node([(f"error: {e}", "bold red")]) for e in n.errors]
            + [Node([(f"warning: {w}", "yellow")]) for w in n.warnings])


def route_nodes(n: ProxyNode) -> list[Node]:
    return [route_node(r) for r in n.routes]


def route_node(r: RouteNode) -> Node:
    from kubectl_contour.render.text import Node

    arrow: list[Part] = [(r.match or '""', "bold"), (" → ", "dim")]
    if r.delegate:
        head = [*arrow, (f"{r.link} {r.delegate}", "")]
        if r.note and r.child is None:
            skipped = "route" if r.link == "delegate" else "include"
            return Node([*head, (f" ({r.note}: {skipped} skipped)", "bold red")])
        assert r.child is not None
        child = r.child
        unserved: list[Part] = [(" (not served)", "bold red")] if r.note else []
        return Node([*head, (" ", ""), *status_parts(child.status, child.reason),
                     *stored_parts(child), *unserved], detail_nodes(child) + route_nodes(child))
    if len(r.services) == 1:
        return Node([*arrow, *service_parts(r.services[0])])
    if not r.services:
        return Node([*arrow, ("no services", "yellow")])
    return Node([*arrow, (f"{len(r.services)} services", "")],
                [Node(service_parts(s)) for s in r.services])
