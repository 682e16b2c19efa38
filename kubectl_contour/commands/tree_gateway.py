"""`tree`'s Gateway API part: Gateways → listeners → attached routes → rules → backendRefs,
and the routes no Gateway of ours accepted (queries/gateway_tree.py builds the model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_contour.commands.common import service_parts, status_parts

if TYPE_CHECKING:
    from kubectl_contour.queries.gateway_tree import (
        GatewayNode,
        GwRouteNode,
        ListenerNode,
        RuleNode,
    )
    from kubectl_contour.queries.tree import TreeView
    from kubectl_contour.render.text import Node


def gateway_parts(model: TreeView, *, rich: bool) -> list[Any]:
    """The Gateways' tree and the unattached routes' tree (each only when there are some)."""
    from kubectl_contour.render.text import Node, tree

    parts = [tree([gateway_node(g) for g in model.gateways], rich=rich)] if model.gateways \
        else []
    if model.unattached:
        parts.append(tree([Node([("Not accepted by any Gateway", "bold yellow")],
                                [route_node(r) for r in model.unattached])], rich=rich))
    return parts


def gateway_node(g: GatewayNode) -> Node:
    from kubectl_contour.render.text import Node

    reason = "" if g.status == "programmed" else g.reason
    return Node([(f"gateway {g.namespace}/{g.name}", "bold cyan"),
                 (f" (class {g.class_name}) ", ""), *status_parts(g.status, reason)],
                [listener_node(li) for li in g.listeners])


def listener_node(li: ListenerNode) -> Node:
    from kubectl_contour.render.text import Node

    head = [(f"listener {li.name}", "bold"),
            (f" {li.protocol}:{li.port} {li.hostname or '*'} ({li.attached} attached)", "")]
    problems = [Node([(p, "bold red")]) for p in li.problems]
    return Node(head, problems + [route_node(r) for r in li.routes])


def route_node(r: GwRouteNode) -> Node:
    from kubectl_contour.render.text import Node

    hosts = ",".join(r.hostnames) or "*"
    head = [(f"{r.kind.lower()} {r.namespace}/{r.name}", "bold"), (f" {hosts} ", ""),
            *status_parts(r.status, "" if r.status == "accepted" else r.reason)]
    return Node(head, [rule_node(rule) for rule in r.rules])


def rule_node(rule: RuleNode) -> Node:
    from kubectl_contour.render.text import Node

    arrow = [(" | ".join(rule.matches), "bold"), (" → ", "dim")]
    if len(rule.backends) == 1:
        return Node([*arrow, *service_parts(rule.backends[0])])
    if not rule.backends:
        return Node([*arrow, ("no backends", "yellow")])
    return Node([*arrow, (f"{len(rule.backends)} backends", "")],
                [Node(service_parts(b)) for b in rule.backends])
