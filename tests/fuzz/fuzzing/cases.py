"""Cases and batches: what one batch writes into the source folder, and what each object
deserves.

A case is a small family of objects (a root with its Service and endpoints, a TLS
delegation, an Ingress, a delegation cycle, ...) of which usually one object is mutated,
or a hostile file. Each object carries an `Expect` (the oracle's verdict); graph-shaped
families also carry `GroupCheck`s (a cycle makes one of its members invalid; a stolen
secret is never served). Batch `i` of seed `s` is generated from `Random(f"{s}/{i}")`
alone, so any batch can be regenerated on its own (`python -m bench.fuzz --replay`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import yaml

from fuzzing import proxies, valid
from fuzzing.documents import hostile_document
from fuzzing.family import (
    CONTROL_NAMESPACE,
    CONTROL_SECRET,
    Case,
    Expect,
    GroupCheck,
    expect_for,
    mutated_family,
)
from fuzzing.mutate import NESTED_PREFIX
from fuzzing.oracle import UNPARSEABLE

Obj = dict[str, Any]
__all__ = ["CONTROL_NAMESPACE", "CONTROL_SECRET", "Batch", "Case", "Expect", "GroupCheck",
           "make_batch"]


def ir_family(rnd: random.Random, p: str) -> Case:
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    objs = valid.backing(rnd, ns, f"{p}-svc")
    if rnd.random() < 0.4:
        child_ns = rnd.choice(valid.FUZZ_NAMESPACES)
        objs += valid.backing(rnd, child_ns, f"{p}-csvc")
        objs.append(valid.child(rnd, child_ns, f"{p}-child", "/child", f"{p}-csvc"))
        delegate = {"name": f"{p}-child", "namespace": child_ns}
        objs.append(valid.root(rnd, ns, f"{p}-root", f"{p}.fuzz.test", f"{p}-svc",
                               delegate=delegate))
    else:
        objs.append(valid.root(rnd, ns, f"{p}-root", f"{p}.fuzz.test", f"{p}-svc"))
    return mutated_family(rnd, p, objs)


def tcpproxy_family(rnd: random.Random, p: str) -> Case:
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    objs = valid.backing(rnd, ns, f"{p}-svc")
    spec = {"virtualhost": {"fqdn": f"{p}.fuzz.test", "tls": {"passthrough": True}},
            "tcpproxy": {"services": [valid.ir_service(rnd, f"{p}-svc")]}}
    objs.append(valid.ingressroute(ns, f"{p}-tcp", spec))
    return mutated_family(rnd, p, objs)


def ingress_family(rnd: random.Random, p: str) -> Case:
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    objs = valid.backing(rnd, ns, f"{p}-svc")
    secret = f"{p}-tls" if rnd.random() < 0.3 else None
    if secret:
        objs.append(valid.tls_secret(ns, secret))
    objs.append(valid.ingress(rnd, ns, f"{p}-ing", f"{p}.fuzz.test", f"{p}-svc", secret))
    return mutated_family(rnd, p, objs)


def tls_family(rnd: random.Random, p: str) -> Case:
    owner, user = rnd.sample(valid.FUZZ_NAMESPACES, 2)
    objs = [valid.tls_secret(owner, f"{p}-tls"),
            valid.delegation(owner, f"{p}-deleg", f"{p}-tls", [user]),
            *valid.backing(rnd, user, f"{p}-svc"),
            valid.root(rnd, user, f"{p}-root", f"{p}.fuzz.test", f"{p}-svc",
                       tls_secret_name=f"{owner}/{p}-tls")]
    return mutated_family(rnd, p, objs)


def namespace_family(rnd: random.Random, p: str) -> Case:
    return mutated_family(rnd, p, [valid.namespace(f"{p}-ns")])


def _chain_case(rnd: random.Random, p: str, links: list[tuple[str, str, list[str]]],
                ns_of: dict[str, str], svc_ns: str) -> list[Obj]:
    """IngressRoutes `name → delegates` (a delegate list empty: a leaf with the service)."""
    objs = valid.backing(rnd, svc_ns, f"{p}-svc")
    for name, kind, delegates in links:
        ns = ns_of[name]
        if delegates:
            routes = [{"match": "/", "delegate": {"name": d, "namespace": ns_of[d]}}
                      for d in delegates]
        else:
            routes = [valid.ir_route(rnd, "/", [valid.ir_service(rnd, f"{p}-svc")])]
        spec: Obj = {"routes": routes}
        if kind == "root":
            spec["virtualhost"] = {"fqdn": f"{p}.fuzz.test"}
        objs.append(valid.ingressroute(ns, name, spec))
    return objs


def graph_family(rnd: random.Random, p: str) -> Case:
    """Delegation cycles (also self and cross-namespace), diamonds, a diamond lattice and a
    chain deeper than 64: all valid objects whose graph decides their status."""
    shape = rnd.choices(("cycle", "self", "diamond", "lattice", "deep"), (3, 2, 3, 1, 1))[0]
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    r, a, b, c = (f"{p}-{x}" for x in ("root", "a", "b", "c"))
    svc_ns = ns
    if shape == "cycle":
        links = [(r, "root", [a]), (a, "child", [b]), (b, "child", [a])]
        group = GroupCheck("invalid_any", needle="delegation cycle")
    elif shape == "self":
        links = [(r, "root", [r])]
        group = GroupCheck("invalid_any", needle="delegation cycle")
    elif shape == "diamond":
        links = [(r, "root", [a, b]), (a, "child", [c]), (b, "child", [c]), (c, "child", [])]
        group = GroupCheck("valid_all")
    elif shape == "lattice":
        depth = rnd.choice((18, 20))
        level = [[f"{p}-l{i}x", f"{p}-l{i}y"] for i in range(depth)]
        links = [(r, "root", level[0])]
        for i in range(depth):
            nxt = level[i + 1] if i + 1 < depth else []
            links += [(n, "child", nxt) for n in level[i]]
        group = GroupCheck("invalid_any")
    else:
        chain = [f"{p}-d{i}" for i in range(rnd.choice((66, 80)))]
        links = [(r, "root", [chain[0]])]
        links += [(n, "child", [chain[i + 1]] if i + 1 < len(chain) else [])
                  for i, n in enumerate(chain)]
        group = GroupCheck("invalid_any")
    ns_of = {name: rnd.choice(valid.FUZZ_NAMESPACES) if shape == "cycle" else ns
             for name, _, _ in links}
    if shape == "cycle":
        svc_ns = ns_of[r]
    objs = _chain_case(rnd, p, links, ns_of, svc_ns)
    group.keys = [(ns_of[n], n) for n, _, _ in links]
    group.why = f"delegation {shape}"
    case = Case(p, [expect_for(o, f"valid ({shape} member)") for o in objs], [group])
    return case


def stolen_secret_family(rnd: random.Random, p: str) -> Case:
    """A root or Ingress naming the control namespace's secret without a delegation."""
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    fqdn = f"{p}.fuzz.test"
    stolen = f"{CONTROL_NAMESPACE}/{CONTROL_SECRET}"
    objs = valid.backing(rnd, ns, f"{p}-svc")
    if rnd.random() < 0.5:
        objs.append(valid.root(rnd, ns, f"{p}-root", fqdn, f"{p}-svc", tls_secret_name=stolen))
    else:
        objs.append(valid.ingress(rnd, ns, f"{p}-ing", fqdn, f"{p}-svc", stolen))
    return Case(p, [expect_for(o, "valid (steals a secret)") for o in objs],
                [GroupCheck("no_tls", fqdn=fqdn, why=f"secret {stolen} stolen without "
                            "a TLSCertificateDelegation")])


def document_family(rnd: random.Random, p: str) -> Case:
    suffix, text, why = hostile_document(rnd, f"{p}-doc")
    expect = Expect("<file>", "", f"{p}-doc", UNPARSEABLE, why, False)
    return Case(p, [expect], raw_file=(suffix, text))


FAMILIES = ((ir_family, 5), (ingress_family, 3), (tls_family, 2), (tcpproxy_family, 1),
            (namespace_family, 1), (graph_family, 0.7), (stolen_secret_family, 1),
            (document_family, 1.5), *proxies.FAMILIES)


def make_case(rnd: random.Random, prefix: str) -> Case:
    family = rnd.choices([f for f, _ in FAMILIES], [w for _, w in FAMILIES])[0]
    return family(rnd, prefix)


@dataclass
class Batch:
    seed: int
    index: int
    cases: list[Case]
    files: dict[str, str]  # relative file name → text

    @property
    def expects(self) -> list[Expect]:
        return [e for c in self.cases for e in c.expects]

    @property
    def groups(self) -> list[GroupCheck]:
        return [g for c in self.cases for g in c.groups]


def make_batch(seed: int, index: int, objects: int) -> Batch:
    """Cases until at least `objects` objects, laid out into files under `b<index>/`."""
    rnd = random.Random(f"{seed}/{index}")
    cases: list[Case] = []
    while sum(len(c.expects) for c in cases) < objects:
        cases.append(make_case(rnd, f"b{index}-{len(cases)}"))
    files: dict[str, str] = {}
    for case in cases:
        files.update(layout(rnd, f"b{index}/{case.name}", case))
    return Batch(seed, index, cases, files)


def layout(rnd: random.Random, stem: str, case: Case) -> dict[str, str]:
    """The case's files: one multi-document YAML, one JSON List, or a file per object."""
    if case.raw_file is not None:
        suffix, text = case.raw_file
        case.expects[0].file = stem + suffix
        return {stem + suffix: text}
    style = rnd.choice(("yaml", "yaml", "list", "split"))
    if any(e.why.startswith(NESTED_PREFIX) for e in case.expects):
        style = "list"  # PyYAML's emitter recurses: deep values are written as JSON
    if style == "split":
        out = {}
        for i, e in enumerate(case.expects):
            e.file = f"{stem}-{i}.yaml"
            out[e.file] = dump_yaml([e.obj])
        return out
    name = stem + (".yaml" if style == "yaml" else ".json")
    for e in case.expects:
        e.file = name
    objs = [e.obj for e in case.expects]
    if style == "yaml":
        return {name: dump_yaml(objs)}
    return {name: json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})}


def dump_yaml(objs: list[Any]) -> str:
    return str(yaml.dump_all(objs, Dumper=_DUMPER, sort_keys=False))


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
