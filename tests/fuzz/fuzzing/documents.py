"""Whole files no parser should follow: documents nested 100,000 levels deep (JSON and
YAML), alias bombs, syntax errors, non-object documents, objects without kind or name.

Each producer returns (suffix, text, description). Their text is written by hand, not by a
serializer: the serializers themselves recurse and cannot produce such depths.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Producer = Callable[[random.Random, str], tuple[str, str, str]]
DEEP = 100_000


def deep_json(rnd: random.Random, name: str) -> tuple[str, str, str]:
    depth = rnd.choice((DEEP, 10_000, 1_000))
    lists = rnd.random() < 0.5
    inner = "[" * depth + "]" * depth if lists else '{"a":' * depth + "1" + "}" * depth
    text = ('{"apiVersion":"contour.heptio.com/v1beta1","kind":"IngressRoute",'
            f'"metadata":{{"name":"{name}","namespace":"fz-a"}},"spec":{inner}}}')
    return ".json", text, f"JSON spec nested {depth} levels"


def deep_yaml(rnd: random.Random, name: str) -> tuple[str, str, str]:
    depth = rnd.choice((DEEP, 10_000, 1_000))
    inner = "[" * depth + "]" * depth if rnd.random() < 0.5 else "{a: " * depth + "1" + \
        "}" * depth
    text = (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: fz-b}}\n"
            f"spec: {inner}\n")
    return ".yaml", text, f"YAML spec nested {depth} levels (flow style)"


def alias_bomb(rnd: random.Random, name: str) -> tuple[str, str, str]:
    """Billion laughs: 9 levels of 9 aliases each, ~387M strings once expanded."""
    levels = rnd.choice((9, 12))
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    text = ("apiVersion: contour.heptio.com/v1beta1\nkind: IngressRoute\n"
            f"metadata: {{name: {name}, namespace: fz-c}}\nspec:\n"
            + "".join(f"  {line}\n" for line in lines)
            + f"  routes: *l{levels - 1}\n")
    return ".yaml", text, f"YAML alias bomb, {levels} levels of 9"


def syntax_error(rnd: random.Random, name: str) -> tuple[str, str, str]:
    texts = (
        (".yaml", f"kind: Service\nmetadata: {{name: {name}\nspec: [\n"),
        (".yaml", f"kind: Service\n\tmetadata:\n  name: {name}\n"),
        (".json", f'{{"kind": "Service", "metadata": {{"name": "{name}"}},}}'),
        (".json", '{"kind": "Service", "metadata": {"name": "' + name + '"}'),
        (".yaml", f"kind: Service\nmetadata: {{name: {name}}}\n"
                  "--- !!python/object:os.system\n"),
        (".yaml", "\x00\x01binary\xff"),
        (".json", '{"kind": "Service", "a": NaN, "metadata": {"name": "x"}}'),
    )
    suffix, text = rnd.choice(texts)
    return suffix, text, f"syntax error: {text[:40]!r}"


def not_an_object(rnd: random.Random, name: str) -> tuple[str, str, str]:
    texts = (
        (".yaml", f"- kind: Service\n- metadata: {{name: {name}}}\n"),
        (".yaml", "just a string\n"),
        (".json", "12345"),
        (".yaml", f"kind: Service\nmetadata:\n  namespace: fz-a\n---\nkind: Service\n"
                  f"metadata: {{name: {name}, namespace: fz-a}}\n"
                  "spec: {ports: [{port: 80}]}\n"),
        (".yaml", f"apiVersion: v1\nmetadata: {{name: {name}, namespace: fz-a}}\n"),
        (".json", f'{{"kind": "List", "items": [1, "x", {{"kind": "Service", '
                  f'"metadata": {{"name": "{name}"}}}}]}}'),
    )
    suffix, text = rnd.choice(texts)
    return suffix, text, f"not an object / no kind or name: {text[:50]!r}"


PRODUCERS: tuple[tuple[Producer, float], ...] = (
    (deep_json, 1), (deep_yaml, 1), (alias_bomb, 1), (syntax_error, 2), (not_an_object, 2),
)


def hostile_document(rnd: random.Random, name: str) -> tuple[str, str, str]:
    producers = [p for p, _ in PRODUCERS]
    return rnd.choices(producers, [w for _, w in PRODUCERS])[0](rnd, name)
