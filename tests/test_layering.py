"""The layering contracts of docs/architecture (README: "How the house is built"), checked on
the static import graph: every `import`/`from ... import` anywhere in a module (function-level
and TYPE_CHECKING ones included), followed transitively through the project's own modules.

No import cycles either, at any level: between the modules of one package, and between
sibling packages (`dag` ↔ `k8s` had no module cycle, yet each package imported the other)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
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


@cache
def _packages() -> frozenset[str]:
    """The modules that are packages (an `__init__.py`)."""
    return frozenset(m for m, p in _modules().items() if p.name == "__init__.py")


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
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module or "", node.level)
            # `from pkg import sub` may import the submodule `pkg.sub`
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(m for m in map(_resolve, names) if m is not None and m != module)


def _absolute(module: str, name: str, level: int) -> str:
    """The absolute module a `from {'.' * level}{name} import` in `module` names."""
    if level == 0:
        return name
    package = module if module in _packages() else module.rpartition(".")[0]
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{name}" if name else base


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
    ("controller.k8s", "controller.dag",
     "raw API access knows nothing of the builder (the status writer takes a StatusRecord)"),
    ("controller.xdscache", "controller.xds",
     "the cache knows nothing of the server that serves it (retire asks through Answers)"),
    ("controller.cli_commands", "controller.cli",
     "command bodies never import the app that registers them"),
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


# ----------------------------------------------------------------------------- cycles


def _member(level: str, module: str) -> str | None:
    """The member of package `level` that `module` lies in: a child module or package
    (`level.child`), `level` itself for the package's own `__init__`, or None when `module`
    is outside `level`. The root level "" has the top-level packages as members."""
    if module == level:
        return level
    prefix = f"{level}." if level else ""
    if not module.startswith(prefix):
        return None
    return prefix + module[len(prefix):].split(".")[0]


def level_graphs(
    imports: Mapping[str, Iterable[str]], packages: Iterable[str]
) -> dict[str, dict[str, set[str]]]:
    """Per package (and the root ""), the import graph of its members: A → B when a module in
    A imports a module in B. A package's `__init__` is a member of its own, named as the
    package. Importing a module runs its parents' `__init__`s, but that implicit step is no
    edge: an `__init__` that imports its children is no cycle, an `__init__` that imports a
    child importing the `__init__` back (`from pkg import name`) is."""
    graphs: dict[str, dict[str, set[str]]] = {level: {} for level in ("", *packages)}
    for module, deps in imports.items():
        for dep in deps:
            for level, graph in graphs.items():
                a, b = _member(level, module), _member(level, dep)
                if a is not None and b is not None and a != b:
                    graph.setdefault(a, set()).add(b)
    return graphs


def _reached(graph: Mapping[str, Iterable[str]], start: str) -> dict[str, str]:
    """Breadth-first from `start`'s successors: each node reached → the node it was reached
    from (`start` itself is in it only if a path leads back to it)."""
    parents: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for succ in sorted(graph.get(node, ())):
            if succ not in parents:
                parents[succ] = node
                todo.append(succ)
    return parents


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component of `graph` (node → successors),
    starting from the component's smallest node, the edge back to it implied; sorted.
    [] exactly when `graph` has no cycle."""
    reached = {node: _reached(graph, node) for node in sorted(graph)}
    cycles: list[list[str]] = []
    seen: set[str] = set()
    for node, parents in reached.items():
        if node in seen or node not in parents:
            continue
        seen.update(m for m in parents if node in reached.get(m, {}))
        path = [parents[node]]
        while path[-1] != node:
            path.append(parents[path[-1]])
        cycles.append(path[::-1])
    return sorted(cycles)


def _describe(level: str, cycle: list[str], imports: Mapping[str, Iterable[str]]) -> str:
    """`a -> b -> a` and, per edge, the imports that make it (at most three)."""
    lines = [f"in {level or '<root>'}: " + " -> ".join([*cycle, cycle[0]])]
    for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        why = sorted(f"{m} imports {d}" for m, deps in imports.items() if _member(level, m) == a
                     for d in deps if _member(level, d) == b)
        lines += [f"    {w}" for w in why[:3]]
    return "\n".join(lines)


def test_no_import_cycles() -> None:
    imports = {m: _direct_imports(m) for m in _modules()}
    found = [_describe(level, cycle, imports)
             for level, graph in sorted(level_graphs(imports, _packages()).items())
             for cycle in find_cycles(graph)]
    if found:
        pytest.fail("import cycles:\n" + "\n".join(found), pytrace=False)


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({}, []),
        ({"a": {"b"}, "b": {"c"}, "d": {"b", "c"}}, []),
        ({"a": {"a"}}, [["a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"y": {"x"}, "x": {"y"}, "b": {"a"}, "a": {"b"}}, [["a", "b"], ["x", "y"]]),
        ({"a": {"b", "c"}, "b": {"c"}, "c": {"a"}}, [["a", "c"]]),
    ],
    ids=["empty", "acyclic", "self-loop", "triangle", "two-components", "shortest"],
)
def test_find_cycles(graph: dict[str, set[str]], cycles: list[list[str]]) -> None:
    """Guards the cycle check itself: it finds what is there and nothing else."""
    assert find_cycles(graph) == cycles


@pytest.mark.parametrize(
    ("imports", "cycles"),
    [
        # dag ↔ k8s: no module cycle, but each package imports the other
        ({"p.x.m": {"p.y.n"}, "p.y.o": {"p.x.k"}}, {"p": [["p.x", "p.y"]]}),
        ({"p.x.m": {"p.y.n"}, "p.y.n": {"p.z"}}, {}),
        ({"p.a": {"p.b"}, "p.b": {"p.a"}}, {"p": [["p.a", "p.b"]]}),
        ({"p": {"p.a", "p.b"}, "p.a": {"p.b"}}, {}),  # an __init__ re-exporting its children
        ({"p": {"p.a"}, "p.a": {"p"}}, {"p": [["p", "p.a"]]}),  # ... and imported back
        ({"p.x.m": {"q.n"}, "q.n": {"p.y"}}, {"": [["p", "q"]]}),
    ],
    ids=["sibling-packages", "acyclic", "modules", "init-re-exports", "init-imported-back",
         "top-level"],
)
def test_level_graphs_find_cycles_at_every_level(
    imports: dict[str, set[str]], cycles: dict[str, list[list[str]]]
) -> None:
    graphs = level_graphs(imports, ["p", "p.x", "p.y", "q"])
    assert {level: c for level, g in graphs.items() if (c := find_cycles(g))} == cycles


@pytest.mark.parametrize(
    ("module", "name", "level", "absolute"),
    [
        ("controller.dag.builder", "model", 1, "controller.dag.model"),
        ("controller.dag.builder", "", 1, "controller.dag"),
        ("controller.dag.builder", "k8s.objects", 2, "controller.k8s.objects"),
        ("controller.dag", "builder", 1, "controller.dag.builder"),  # in the package's __init__
        ("controller.dag.builder", "controller.k8s", 0, "controller.k8s"),
    ],
)
def test_relative_imports_are_resolved(module: str, name: str, level: int, absolute: str) -> None:
    assert _absolute(module, name, level) == absolute


def test_the_level_graphs_see_the_packages() -> None:
    """Guards the cycle check on the real tree: an empty projection would find no cycle."""
    graphs = level_graphs({m: _direct_imports(m) for m in _modules()}, _packages())
    assert "controller.xdscache" in graphs["controller"]["controller.xds"]
    assert "controller.k8s.client" in graphs["controller.k8s"]["controller.k8s.status"]


def test_test_file_names_are_unique() -> None:
    """pytest imports test modules by basename (no packages here): two `test_x.py` in
    different folders break the collection of the whole suite."""
    tests = Path(__file__).resolve().parent
    names: dict[str, list[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(tests)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}
