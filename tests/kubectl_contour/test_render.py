"""Views on a terminal (rich renderables) at a fixed width with colour off, and the plain
renderer's tree and table primitives."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from goldens import check_golden

from kubectl_contour.commands import route as route_cmd
from kubectl_contour.commands import status as status_cmd
from kubectl_contour.commands import tree as tree_cmd
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.route import Request, explain
from kubectl_contour.queries.status import status_rows
from kubectl_contour.queries.tree import tree_view
from kubectl_contour.render.text import Node, table, tree_text
from kubectl_contour.sources import load_dir


def rich_text(renderable: Any) -> str:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100, no_color=True, color_system=None, force_terminal=False,
            highlight=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def world(fixtures_dir: Path) -> tuple[Any, Any]:
    from controller.config import BuilderSettings

    snapshot = load_dir(fixtures_dir)
    return snapshot, build_dag(snapshot, settings=BuilderSettings())


def test_tree_on_a_terminal(fixtures_dir: Path) -> None:
    snapshot, dag = world(fixtures_dir)
    model = tree_view(snapshot, dag, scope=None)
    check_golden("rich-tree.txt", rich_text(tree_cmd.view(model, rich=True)))


def test_status_on_a_terminal(fixtures_dir: Path) -> None:
    snapshot, dag = world(fixtures_dir)
    rows = status_rows(snapshot, dag, scope="marketing", ingress_class="contour")
    check_golden("rich-status.txt", rich_text(status_cmd.view(rows, live=False, rich=True)))


def test_route_on_a_terminal(fixtures_dir: Path) -> None:
    snapshot, dag = world(fixtures_dir)
    model = explain(snapshot, dag, Request("www.example.com", "/blog/x", "https"))
    check_golden("rich-route.txt", rich_text(route_cmd.view(model, rich=True)))


def test_plain_tree_guides() -> None:
    nodes = [Node([("root", "")], [Node([("a", "")], [Node([("a1", "")])]),
                                   Node([("b", "")])])]
    assert tree_text(nodes) == "root\n├── a\n│   └── a1\n└── b"


def test_plain_table_is_sorted_input_verbatim() -> None:
    text = table(["name", "status"], [["a", [("valid", "green")]], ["b", "invalid"]], rich=False)
    assert text.splitlines() == ["NAME    STATUS", "a       valid", "b       invalid"]
