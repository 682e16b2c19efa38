"""Styled lines, trees and tables that render both as plain text and as rich renderables.

Views build these structures once; `rich=True` gives a rich renderable for a terminal,
`rich=False` gives the exact text the golden tests compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Part = tuple[str, str]
"""(text, rich style); the style is ignored in plain text."""

STATUS_STYLES = {"valid": "green", "invalid": "bold red", "orphaned": "yellow",
                 "ok": "green", "drift": "bold red", "stale": "yellow", "nacked": "bold red",
                 "accepted": "green", "programmed": "green", "not accepted": "bold red",
                 "not programmed": "bold red", "refs unresolved": "yellow",
                 "partly accepted": "yellow", "not attached": "yellow"}


def status_style(status: str) -> str:
    return STATUS_STYLES.get(status, "")


@dataclass(slots=True)
class Node:
    parts: list[Part]
    children: list[Node] = field(default_factory=list)

    def text(self) -> str:
        return "".join(t for t, _ in self.parts)


def to_rich_text(parts: Sequence[Part]) -> Any:
    from rich.text import Text

    out = Text()
    for text, style in parts:
        out.append(text, style=style or None)
    return out


def tree_text(nodes: Sequence[Node]) -> str:
    lines: list[str] = []
    for node in nodes:
        lines.append(node.text())
        lines.extend(branch_lines(node.children, prefix=""))
    return "\n".join(lines)


def branch_lines(children: Sequence[Node], *, prefix: str) -> list[str]:
    lines: list[str] = []
    for i, child in enumerate(children):
        last = i == len(children) - 1
        lines.append(prefix + ("└── " if last else "├── ") + child.text())
        lines.extend(branch_lines(child.children, prefix=prefix + ("    " if last else "│   ")))
    return lines


def tree_rich(nodes: Sequence[Node]) -> Any:
    from rich.console import Group
    from rich.tree import Tree

    def grow(tree: Any, children: Sequence[Node]) -> None:
        for child in children:
            grow(tree.add(to_rich_text(child.parts)), child.children)

    trees = []
    for node in nodes:
        tree = Tree(to_rich_text(node.parts), guide_style="dim")
        grow(tree, node.children)
        trees.append(tree)
    return Group(*trees)


def tree(nodes: Sequence[Node], *, rich: bool) -> Any:
    return tree_rich(nodes) if rich else tree_text(nodes)


def cell_text(cell: Any) -> str:
    if isinstance(cell, list):
        return "".join(t for t, _ in cell)
    return "" if cell is None else str(cell)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, rich: bool,
          title: str = "") -> Any:
    """A table: tabulate's plain format when piped, a rich Table on a terminal.
    A cell is a value or a list of Parts (styled on a terminal)."""
    if rich:
        from rich.table import Table

        out = Table(title=title or None, title_justify="left", header_style="bold",
                    box=None, pad_edge=False)
        for h in headers:
            # fold, never truncate: a host or object name cut to `…` is not an answer
            out.add_column(h.upper(), overflow="fold")
        for row in rows:
            out.add_row(*(to_rich_text(c) if isinstance(c, list) else cell_text(c) for c in row))
        return out
    from tabulate import tabulate

    body = tabulate([[cell_text(c) for c in row] for row in rows],
                    headers=[h.upper() for h in headers], tablefmt="plain", disable_numparse=True)
    return f"{title}\n{body}" if title else body


def sections(parts: Sequence[Any], *, rich: bool) -> Any:
    """Several renderables one after another, separated by a blank line."""
    kept = [p for p in parts if p is not None and p != ""]
    if rich:
        from rich.console import Group

        spaced: list[Any] = []
        for i, p in enumerate(kept):
            spaced.extend([p] if i == 0 else ["", p])
        return Group(*spaced)
    return "\n\n".join(str(p).rstrip("\n") for p in kept)
