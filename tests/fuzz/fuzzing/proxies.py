"""HTTPProxy families (projectcontour.io/v1): a root with policies and includes across
namespaces, a root served with a v1 TLSCertificateDelegation (or stealing the control
secret), and include graphs (cycles, self-includes, missing targets, roots included,
diamonds) whose statuses are checked by `GroupCheck`s of kind HTTPProxy.

Every family follows cases.py's contract: names start with the case prefix `p`, fqdns are
`<p>.fuzz.test`, and at most one object of a mutated family is mutated.
"""

from __future__ import annotations

import random
from typing import Any

from fuzzing import valid
from fuzzing import valid_proxy as vp
from fuzzing.family import (
    CONTROL_NAMESPACE,
    CONTROL_SECRET,
    Case,
    GroupCheck,
    expect_for,
    mutated_family,
)

Obj = dict[str, Any]
HTTPPROXY = "HTTPProxy"


def proxy_family(rnd: random.Random, p: str) -> Case:
    """A root with policies at `/`, and sometimes one or two children included from other
    namespaces under `/child<i>` (with header conditions sometimes)."""
    ns = rnd.choice(valid.FUZZ_NAMESPACES)
    objs = valid.backing(rnd, ns, f"{p}-svc")
    includes = []
    for i in range(rnd.choice((0, 0, 1, 2))):
        child_ns = rnd.choice(valid.FUZZ_NAMESPACES)
        objs += valid.backing(rnd, child_ns, f"{p}-c{i}svc")
        objs.append(vp.hp_child(rnd, child_ns, f"{p}-c{i}", f"{p}-c{i}svc"))
        inc = vp.include(f"{p}-c{i}", child_ns, f"/child{i}")
        if rnd.random() < 0.3:
            inc["conditions"].append({"header": {"name": "x-team", "exact": f"t{i}"}})
        includes.append(inc)
    root = vp.hp_root(rnd, ns, f"{p}-root", f"{p}.fuzz.test", f"{p}-svc", includes=includes)
    if rnd.random() < 0.3:
        root["spec"]["routes"].append(vp.hp_route(rnd, None, [vp.hp_service(rnd, f"{p}-svc")]))
        root["spec"]["routes"][-1]["conditions"] = [{"regex": "/re/[a-z]+"}]
    return mutated_family(rnd, p, [*objs, root], prefer=(HTTPPROXY,))


def proxy_tls_family(rnd: random.Random, p: str) -> Case:
    """A TLS root whose secret lives in another namespace, delegated by a v1
    TLSCertificateDelegation (to its namespace or to `*`); one in five steals the control
    secret instead, which must never be served."""
    owner, user = rnd.sample(valid.FUZZ_NAMESPACES, 2)
    fqdn = f"{p}.fuzz.test"
    if rnd.random() < 0.2:
        stolen = f"{CONTROL_NAMESPACE}/{CONTROL_SECRET}"
        objs = [*valid.backing(rnd, user, f"{p}-svc"),
                vp.hp_root(rnd, user, f"{p}-root", fqdn, f"{p}-svc", tls_secret_name=stolen)]
        return Case(p, [expect_for(o, "valid (steals a secret)") for o in objs],
                    [GroupCheck("no_tls", fqdn=fqdn, why=f"HTTPProxy steals {stolen}")])
    targets = [user] if rnd.random() < 0.7 else ["*"]
    objs = [valid.tls_secret(owner, f"{p}-tls"),
            vp.delegation_v1(owner, f"{p}-deleg", f"{p}-tls", targets),
            *valid.backing(rnd, user, f"{p}-svc"),
            vp.hp_root(rnd, user, f"{p}-root", fqdn, f"{p}-svc",
                       tls_secret_name=f"{owner}/{p}-tls")]
    return mutated_family(rnd, p, objs, prefer=(HTTPPROXY, "TLSCertificateDelegation"))


GRAPHS: dict[str, tuple[list[tuple[str, list[str]]], str, str]] = {
    # shape: ((proxy, the proxies it includes) ..., check, needle); the first is the root
    "cycle": ([("root", ["a"]), ("a", ["b"]), ("b", ["a"])], "invalid_any",
              "include creates an include cycle"),
    "self": ([("root", ["a"]), ("a", ["a"])], "invalid_any", "include creates an include cycle"),
    "missing": ([("root", ["a", "gone"]), ("a", [])], "invalid_any", "not found"),
    "root-includes-root": ([("root", ["root2"]), ("root2", [])], "invalid_any",
                           "cannot include another root"),
    "diamond": ([("root", ["a", "b"]), ("a", ["c"]), ("b", ["c"]), ("c", [])], "valid_all", ""),
}


def proxy_graph_family(rnd: random.Random, p: str) -> Case:
    """An include graph of GRAPHS across namespaces, all objects valid; its statuses are
    what the GroupCheck asserts."""
    shape = rnd.choice(sorted(GRAPHS))
    links, check, needle = GRAPHS[shape]
    names = {n for n, _ in links} | {t for _, ts in links for t in ts}
    ns_of = {n: rnd.choice(valid.FUZZ_NAMESPACES) for n in sorted(names)}
    objs: list[Obj] = []
    for name, targets in links:
        spec: Obj = {"includes": [vp.include(f"{p}-{t}", ns_of[t], f"/{t}") for t in targets]}
        if not targets:
            spec = {"routes": [{"services": [{"name": f"{p}-svc", "port": 80}]}]}
        if name.startswith("root"):
            spec["virtualhost"] = {"fqdn": f"{p}-{name}.fuzz.test"}
        if name == "root" and shape != "root-includes-root":
            spec["routes"] = []  # the root serves only what it includes
        objs.append(vp.httpproxy(ns_of[name], f"{p}-{name}", spec))
    for name, targets in links:  # each leaf's Service, in its namespace
        if not targets:
            objs += valid.backing(rnd, ns_of[name], f"{p}-svc")
    group = GroupCheck(check, [(ns_of[n], f"{p}-{n}") for n, _ in links], needle,
                       why=f"HTTPProxy include {shape}", kind=HTTPPROXY)
    return Case(p, [expect_for(o, f"valid ({shape} member)") for o in _unique(objs)], [group])


def _unique(objs: list[Obj]) -> list[Obj]:
    """Objects without repeats of one kind/namespace/name (leaves sharing a namespace share
    their Service), first one kept."""
    seen, out = set(), []
    for o in objs:
        key = (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


FAMILIES = ((proxy_family, 4), (proxy_tls_family, 1.5), (proxy_graph_family, 0.7))
