"""FastSafeLoader equals PyYAML's CSafeLoader, document for document: generated streams of
nested mappings and sequences whose scalars look like every implicit type YAML 1.1 knows
(bools, ints in every base, floats, nulls, timestamps), quoted and plain, plus anchors,
aliases, merge keys, explicit tags and the errors."""

from __future__ import annotations

import random

import pytest
import yaml

from controller.k8s.fastyaml import FastSafeLoader

SCALARS = ("x", "yes", "No", "on", "OFF", "true", "~", "null", "", "0", "-12", "0x1f", "0o17",
           "017", "1_000", "190:20:30", "3.14", ".inf", "-.Inf", ".nan", "1e3", "2001-12-14",
           "2001-12-14t21:59:43.10-05:00", "80", "http", "a: b", "- c", "#x", "é", "  sp ",
           "=", "<<")


def scalar(rng: random.Random) -> str:
    text = rng.choice(SCALARS)
    style = rng.random()
    if style < 0.3:
        return yaml.safe_dump(text, default_style='"').strip().removesuffix("\n...")
    if style < 0.4:
        return f"'{text}'"
    plain = text if text and text[0] not in " -#<=a" and ":" not in text else f"'{text}'"
    return plain.strip() or "''"


def node(rng: random.Random, depth: int, indent: str) -> list[str]:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return [scalar(rng)]
    if roll < 0.65:
        return [f"{{{', '.join(f'k{i}: {scalar(rng)}' for i in range(rng.randint(0, 3)))}}}"]
    lines = []
    for i in range(rng.randint(1, 3)):
        sub = node(rng, depth + 1, indent + "  ")
        key = rng.choice((f"k{i}", scalar(rng), f"k{i}"))
        if len(sub) == 1:
            lines.append(f"{indent}{key}: {sub[0]}")
        else:
            lines.append(f"{indent}{key}:")
            lines.extend(sub)
    if rng.random() < 0.3:
        return [f"{indent}- {scalar(rng)}" for _ in range(rng.randint(1, 3))]
    return lines


def stream(rng: random.Random) -> str:
    docs = []
    for _ in range(rng.randint(1, 4)):
        lines = node(rng, 0, "")
        docs.append("\n".join(lines if len(lines) > 1 else [f"v: {lines[0]}"]) + "\n")
    return "---\n".join(docs)


def same(text: str) -> None:
    try:
        want = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as err:
        with pytest.raises(type(err)):
            list(yaml.load_all(text, Loader=FastSafeLoader))
        return
    got = list(yaml.load_all(text, Loader=FastSafeLoader))
    assert repr(got) == repr(want), text  # repr: nan == nan, and types (1 vs True) differ


@pytest.mark.parametrize("seed", range(200))
def test_generated_streams(seed: int) -> None:
    same(stream(random.Random(seed)))


@pytest.mark.parametrize("text", [
    "a: &x {b: 1}\nc: *x\nd: {<<: *x, e: 2}\n",
    "base: &b {x: 1, y: 2}\nm:\n  <<: [*b, {z: 3}]\n  y: 9\n",
    "- &s [1, 2]\n- *s\n",
    "r: &r [a, *r]\n",
    "!!set {a, b}\n",
    "!!omap [{a: 1}, {b: 2}]\n",
    "b: !!binary aGVsbG8=\n",
    "i: !!int '12'\ns: !!str 12\nf: !!float 1\n",
    "{[a]: 1}\n",
    "? {a: 1}\n: x\n",
    "a: 1\na: 2\n",
    "",
    "---\n---\n",
    "- !!python/object:os.system x\n",
    "a: [1, 2\n",
])
def test_edge_cases(text: str) -> None:
    same(text)
