"""The DAG as Graphviz DOT, for /debug/dag (spec §4.4). Ids are stable, not pointers."""

from __future__ import annotations

from controller.dag.model import DAG, Cluster, Route, Secret


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.edges: list[tuple[str, str]] = []

    def node(self, ident: str, label: str) -> str:
        self.nodes.setdefault(ident, label)
        return ident

    def edge(self, a: str, b: str) -> None:
        if (a, b) not in self.edges:
            self.edges.append((a, b))

    def render(self) -> str:
        lines = ["digraph DAG {", 'rankdir="LR"']
        lines += [f'"{i}" [shape=record, label="{{{_esc(lbl)}}}"]' for i, lbl in self.nodes.items()]
        lines += [f'"{a}" -> "{b}"' for a, b in self.edges]
        return "\n".join(lines + ["}"]) + "\n"


def _esc(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"')


def dag_dot(dag: DAG) -> str:
    g = _Graph()
    http = g.node("listener/80", "listener|:80")
    https = g.node("listener/443", "listener|:443")
    for vh in dag.http:
        v = g.node(f"http/{vh.host}", f"http://{vh.host}")
        g.edge(http, v)
        _routes(g, v, vh.routes)
    for svh in dag.https:
        v = g.node(f"https/{svh.host}", f"https://{svh.host}")
        g.edge(https, v)
        _routes(g, v, svh.routes)
        if svh.secret is not None:
            g.edge(v, _secret(g, svh.secret))
        if svh.tcp_proxy is not None:
            t = g.node(f"tcpproxy/{svh.host}", "tcpproxy")
            g.edge(v, t)
            for c in svh.tcp_proxy.clusters:
                g.edge(t, _cluster(g, c, "tcpservice"))
    return g.render()


def _routes(g: _Graph, vhost: str, routes: tuple[Route, ...]) -> None:
    for r in routes:
        kind = "regex" if r.regex else "prefix"
        node = g.node(f"{vhost}/{kind}/{r.match}", f"{kind}|{r.match}")
        g.edge(vhost, node)
        for c in r.clusters:
            g.edge(node, _cluster(g, c, "httpservice"))


def _cluster(g: _Graph, c: Cluster, service_kind: str) -> str:
    s = c.service
    svc = g.node(f"{service_kind}/{s.namespace}/{s.name}:{s.port}",
                 f"{service_kind}|{s.namespace}/{s.name}:{s.port}")
    ident = f"cluster/{s.namespace}/{s.name}/{s.port}/{c.strategy}/{c.weight}"
    node = g.node(ident, f"cluster|{{{s.namespace}/{s.name}/{s.port}|weight {c.weight}}}")
    g.edge(node, svc)
    return node


def _secret(g: _Graph, s: Secret) -> str:
    return g.node(f"secret/{s.namespace}/{s.name}", f"secret|{s.namespace}/{s.name}")
