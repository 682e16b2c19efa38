"""What a generated case is made of: the objects (each with the verdict the oracle gives it),
the checks on their graph, and the building block of most families: a few valid objects
of which usually one is mutated (`mutated_family`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from fuzzing.mutate import mutate
from fuzzing.oracle import judge
from fuzzing.schema import schema_key

Obj = dict[str, Any]
CONTROL_NAMESPACE = "fuzz-control"
CONTROL_SECRET = "control-tls"
MUTATION_RATE = 0.8
CLUSTER_SCOPED = frozenset({"Namespace"})


@dataclass
class Expect:
    """One generated object (or one hostile file) and the verdict it deserves."""

    kind: str
    namespace: str
    name: str
    verdict: str
    why: str
    identified: bool  # kind, namespace and name are usable strings
    obj: Any = None
    file: str = ""  # set when the case is laid out into files
    paths: tuple[str, ...] = ()  # where the oracle found violations ("spec.routes[0]")


@dataclass
class GroupCheck:
    """`invalid_any`: one of `keys` (objects of `kind`) is invalid with `needle` in the
    description or its conditions; `valid_all`: all of them are valid; `no_tls`: no HTTPS
    filter chain serves `fqdn`."""

    what: str
    keys: list[tuple[str, str]] = field(default_factory=list)
    needle: str = ""
    fqdn: str = ""
    why: str = ""
    kind: str = "IngressRoute"


@dataclass
class Case:
    name: str
    expects: list[Expect] = field(default_factory=list)
    groups: list[GroupCheck] = field(default_factory=list)
    raw_file: tuple[str, str] | None = None  # (suffix, text) of a hostile file


def expect_for(obj: Any, why: str) -> Expect:
    """The object's Expect: its identity as the controller reports it (schema_key's kind; an
    unset or empty namespace is `default`) and the oracle's verdict."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    kind = obj.get("kind") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    ns = meta.get("namespace", "default") if isinstance(meta, dict) else None
    identified = all(isinstance(v, str) and v for v in (kind, name)) and isinstance(ns, str)
    if isinstance(kind, str) and kind in CLUSTER_SCOPED:
        ns = ""
    elif ns == "":
        ns = "default"
    j = judge(obj)
    paths = tuple(sorted({v.split(": ", 1)[0].lstrip(".") or "(root)" for v in j.violations}))
    return Expect(schema_key(obj) if isinstance(kind, str) else str(kind), str(ns), str(name),
                  j.verdict, why, identified, obj, paths=paths)


def mutated_family(rnd: random.Random, name: str, objs: list[Obj],
                   prefer: tuple[str, ...] = ()) -> Case:
    """The objects, one of them (at MUTATION_RATE) mutated; half the time the mutated one
    is of a kind of `prefer` (a family's own kinds, not its Services and endpoints)."""
    case = Case(name)
    target = rnd.randrange(len(objs)) if rnd.random() < MUTATION_RATE else -1
    preferred = [i for i, o in enumerate(objs) if o.get("kind") in prefer]
    if target >= 0 and preferred and rnd.random() < 0.5:
        target = rnd.choice(preferred)
    for i, obj in enumerate(objs):
        if i == target:
            obj, why = mutate(obj, rnd)
            case.expects.append(expect_for(obj, why))
        else:
            case.expects.append(expect_for(obj, "valid"))
    return case


