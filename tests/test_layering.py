"""The layering contracts of docs/architecture (README: "How the house is built"), checked on
the static import graph: every `import`/`from ... import` anywhere in a module (function-level
and TYPE_CHECKING ones included), followed transitively through the project's own modules."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("controller", "kubectl_contour")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
    }


def _resolve(name: str) -> str | None:
    """The project module `name` is, or the longest project module it lies in."""
    modules = _modules()
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def _direct_imports(module: str) -> frozenset[str]:
    tree = ast.parse(_modules()[module].read_text(), filename=str(_modules()[module]))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import sub` may import the submodule `pkg.sub`
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(m for m in map(_resolve, names) if m is not None and m != module)


def _reachable(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for dep in _direct_imports(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


CONTRACTS = [
    # (modules under, must not reach, why)
    ("controller.xds", "controller.dag", "the server only sees snapshots"),
    ("kubectl_contour", "controller.xds", "the plugin never imports the server"),
    ("kubectl_contour", "controller.app", "the plugin never imports the composition root"),
    ("kubectl_contour", "controller.sources", "the plugin never imports the watch"),
    ("kubectl_contour", "controller.events", "the plugin never imports the event loop"),
    ("controller.dag", "controller.xdscache", "the builder is pure: objects in, DAG out"),
    ("controller.dag", "controller.envoy", "the builder knows nothing of Envoy protos"),
    ("controller", "kubectl_contour", "the controller does not depend on the plugin"),
]


@pytest.mark.parametrize(
    ("layer", "forbidden", "why"), CONTRACTS, ids=[f"{a}-x-{b}" for a, b, _ in CONTRACTS]
)
def test_layer_does_not_import(layer: str, forbidden: str, why: str) -> None:
    violations = sorted(
        f"{module} -> {dep}"
        for module in _modules()
        if _under(module, layer)
        for dep in _reachable(module)
        if _under(dep, forbidden)
    )
    assert not violations, f"{why}:\n" + "\n".join(violations)


def test_the_graph_sees_the_packages() -> None:
    """Guards the check itself: a broken resolver would make every contract pass."""
    assert "controller.dag.builder" in _reachable("controller.app")
    assert "controller.dag.model" in _reachable("kubectl_contour.queries.route")
