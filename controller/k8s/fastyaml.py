"""libyaml's safe loader with a faster constructor for the common shapes of manifests.

PyYAML's `CSafeLoader` parses and composes in C but constructs Python objects in Python, one
generator-driven call per node: at 10k objects (30k documents, 770k nodes) that was ~80% of
a cold start's parse (issue 12). This loader builds plain mappings, sequences and strings
in one iterative walk, and hands every other node (ints, bools, nulls, floats, timestamps,
binary, merge keys, sets, ordered maps) to PyYAML's own constructors, so the result equals
the safe loader's (tests/controller/k8s/test_fastyaml.py compares them).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"


class FastSafeLoader(_BASE):  # type: ignore[misc, valid-type]
    """`yaml.load_all(text, Loader=FastSafeLoader)` equals the same with `CSafeLoader`."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        """PyYAML's tag resolution, memoized for scalars (keys, kinds, namespaces and
        ports repeat across 30k documents; libyaml calls this for every node)."""
        if kind is not yaml.ScalarNode or len(value) > MAX_RESOLVED_LENGTH:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            if len(_RESOLVED) >= MAX_RESOLVED:
                _RESOLVED.clear()
            tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
        return tag

    def construct_document(self, node: yaml.Node) -> Any:
        walk = _Walk(self)
        data = walk.value(node)
        walk.finish()
        self.constructed_objects, self.recursive_objects = {}, {}  # type: ignore[var-annotated]
        return data


class _Walk:
    """One document: node → object (an alias is the same object), containers filled from
    an explicit stack (no recursion: nesting depth is libyaml's to bound)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.built: dict[int, Any] = {}
        self.todo: list[yaml.Node] = []

    def value(self, node: yaml.Node) -> Any:
        found = self.built.get(id(node), _MISSING)
        if found is not _MISSING:
            return found
        if node.tag == STR and isinstance(node, yaml.ScalarNode):
            made: Any = node.value
        elif _plain_container(node):
            made = [] if node.tag == SEQ else {}
            self.todo.append(node)
        else:
            made = self.loader.construct_object(node, deep=True)
        self.built[id(node)] = made
        return made

    def finish(self) -> None:
        while self.todo:
            node = self.todo.pop()
            target = self.built[id(node)]
            if node.tag == SEQ:
                target.extend(self.value(item) for item in node.value)
                continue
            for key_node, value_node in node.value:
                key = self.value(key_node)
                if type(key) is str:
                    # memory: a manifest repeats a few dozen keys in every object and
                    # libyaml makes a string for each (json.loads shares its keys within a
                    # document). 50k IngressRoutes, Services and Endpoints read from YAML
                    # (bench/memory.py --source folder): those strings, alive until the
                    # pipeline consumed their objects, left ~100 MB of free 64-byte blocks
                    # in CPython's pools. marshal keeps the mark, so the folder source's
                    # unpacked objects share them too
                    key = sys.intern(key)
                elif not isinstance(key, Hashable):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           "found unhashable key", key_node.start_mark)
                target[key] = self.value(value_node)


def _plain_container(node: yaml.Node) -> bool:
    """A sequence, or a mapping without merge keys: built here; else by PyYAML."""
    if node.tag == SEQ:
        return isinstance(node, yaml.SequenceNode)
    return node.tag == MAP and isinstance(node, yaml.MappingNode) and not any(
        k.tag == MERGE for k, _ in node.value)


_MISSING = object()
_RESOLVED: dict[tuple[Any, Any], str] = {}
MAX_RESOLVED = 65536
"""Distinct scalars remembered; a file of unique values only clears it now and then."""
MAX_RESOLVED_LENGTH = 64
"""Longer scalars are resolved each time: the memo holds at most 64k short strings (a few
MB), never a hostile file's megabyte values."""


def forget() -> None:
    """Drop the remembered scalar tags (after a mass removal: controller/app.py). They are
    keyed by content, so they outlive the objects they came from: at 30k fuzzed objects
    they were ~6 MB of the memory left after every object was removed."""
    _RESOLVED.clear()
