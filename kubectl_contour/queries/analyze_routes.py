"""Routes that are declared but never answer a request (CTR2001, CTR2002).

What shadows a route in this project's semantics (controller/dag/builder.py, model.py):

- CTR2001, replaced: a vhost keeps one route per `route_key` (path kind and match, header
  and query conditions). Ingresses, then IngressRoute roots, then HTTPProxy roots write
  into it and a later writer replaces an earlier one (the overlay rule), also within one
  object. Envoy never sees the replaced route. The writes are replayed here with the
  builder's own per-root functions; the DAG says which write won.
- CTR2002, unreachable: Envoy tries a vhost's routes in `route_order_key` order (exact
  paths, then regexes, then prefixes, longest first) and takes the first that matches. A
  route is unreachable when an earlier one matches every request it matches: the earlier
  route's path covers the later's and its header and query conditions are a subset of
  the later's. A longer prefix always comes first, so `/` never shadows `/api`; what does
  is a regex such as `/.*` (or an Ingress `Prefix` path, which is a regex here) ahead of
  prefixes. Regexes are understood in the shapes `L.*` and `L(/.*)?` around a literal L;
  any other regex is taken to cover nothing (no false alarms).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kubectl_contour.objects import Key, ref
from kubectl_contour.queries.analyze_model import Finding, Inputs, finding
from kubectl_contour.queries.matching import describe_match

Language = tuple[str, str]
"""The paths a route's path condition matches: (`exact`|`prefix`|`segment`, literal);
`segment` is the literal itself or anything under `literal/`."""

_META = frozenset(".^$*+?()[]{}|\\")
Table = tuple[str, str]
"""(`http`|`https`, host): one vhost of the DAG."""


def route_findings(inputs: Inputs) -> Iterator[Finding]:
    yield from replaced(inputs)
    vhosts: list[Any] = [*inputs.dag.http, *inputs.dag.https]
    for vhost in vhosts:
        yield from unreachable(vhost.host, ordered(vhost.routes))


# -- CTR2001 -------------------------------------------------------------------------------


def declared(inputs: Inputs) -> Iterator[tuple[Table, Any]]:
    """Every route write of the build, with its vhost: the builder's steps (b)-(d) run root
    by root with the builder's own functions and gates (duplicate and claimed fqdns are
    not processed; an HTTPProxy writes only when its vhost policies pass)."""
    from controller.dag import httpproxy, ingress, ingressroute
    from controller.dag.claims import httpproxy_fqdns, ingressroute_blocked

    store, settings = inputs.store, inputs.settings
    for host, r80, r443 in ingress.routes(store, ingress.secure_vhosts(store)):
        yield from pair(host, r80, r443)
    claims = httpproxy_fqdns(store.httpproxies.values())
    blocked = {(s.namespace, s.name)
               for s in ingressroute_blocked(store.ingressroutes.values(), claims)}
    for key, view in sorted(store.ingressroutes.items()):
        if view.is_root and key not in blocked:
            result = ingressroute.process_root(view, store, settings)
            for r80, r443 in result.routes if result.host else ():
                yield from pair(result.host, r80, r443)
    duplicates = httpproxy.duplicate_fqdns(store.httpproxies.values())
    for key, hp in sorted(store.httpproxies.items()):
        if hp.is_root and key not in duplicates:
            found = httpproxy.process_root(hp, store, settings)
            for r80, r443 in found.routes if found.insecure_vhost else ():
                yield from pair(found.host, r80, r443)


def pair(host: str, r80: Any, r443: Any) -> Iterator[tuple[Table, Any]]:
    if r80 is not None:
        yield ("http", host), r80
    if r443 is not None:
        yield ("https", host), r443


def replaced(inputs: Inputs) -> Iterator[Finding]:
    """CTR2001: a write that is not the one the DAG kept for its (vhost, route_key)."""
    from controller.dag.model import route_key

    kept = {((table, vh.host), route_key(r)): r
            for table, vhosts in (("http", inputs.dag.http), ("https", inputs.dag.https))
            for vh in vhosts for r in vh.routes}
    groups: dict[tuple[Table, Any], list[Any]] = {}
    for table, route in declared(inputs):
        groups.setdefault((table, route_key(route)), []).append(route)
    for (table, key), routes in groups.items():
        winner = kept.get((table, key))
        if winner is None or len(routes) < 2:
            continue
        for route in routes:
            if route != winner or chain(route) != chain(winner):
                yield replaced_finding(table[1], route, winner)


def chain(route: Any) -> tuple[Key, ...]:
    return tuple(route.provenance.chain) if route.provenance is not None else ()


def replaced_finding(host: str, lost: Any, winner: Any) -> Finding:
    kind, key = owner(lost)
    w_kind, w_key = owner(winner)
    by = ("a later route of the same object" if (kind, key) == (w_kind, w_key)
          else f"the same match in {w_kind} {ref(w_key)}")
    return finding("CTR2001", kind, key, f"route {describe_match(lost)} on {host} is "
                   f"replaced by {by}: it is never served")


def owner(route: Any) -> tuple[str, Key]:
    """The object that declared a DAG route (its provenance)."""
    prov = route.provenance
    return (prov.kind, prov.owner) if prov is not None else ("?", ("", ""))


# -- CTR2002 -------------------------------------------------------------------------------


def ordered(routes: Iterable[Any]) -> list[Any]:
    """Envoy's order on a vhost (the translator emits this order)."""
    from controller.dag.model import route_order_key

    return sorted(routes, key=route_order_key, reverse=True)


def unreachable(host: str, routes: list[Any]) -> Iterator[Finding]:
    """CTR2002 for each route an earlier one covers (the first such is named). Earlier
    routes are indexed by literal, so only those that can cover are tried: every regex, a
    prefix that starts the route's literal, an exact path equal to it."""
    langs = [language(r) for r in routes]
    index = _Earlier()
    for j, later in enumerate(routes):
        lang = langs[j]
        if lang is None:
            continue
        hits = [i for i in index.candidates(lang[1]) if covers(routes[i], langs[i], later, lang)]
        if hits:
            first = routes[min(hits)]
            kind, key = owner(later)
            e_kind, e_key = owner(first)
            yield finding("CTR2002", kind, key, f"route {describe_match(later)} on {host} is "
                          f"never selected: {describe_match(first)} (from {e_kind} "
                          f"{ref(e_key)}) comes first and matches every request it does")
        index.add(j, later, lang)


class _Earlier:
    """The routes seen so far on a vhost, by how they could cover a later one."""

    def __init__(self) -> None:
        self.regexes: list[int] = []
        self.by_literal: dict[str, list[int]] = {}

    def add(self, i: int, route: Any, lang: Language) -> None:
        if route.regex:
            self.regexes.append(i)
        else:
            self.by_literal.setdefault(lang[1], []).append(i)

    def candidates(self, literal: str) -> Iterator[int]:
        """Every regex, and each prefix or exact route whose literal starts `literal`
        (covers() then decides)."""
        yield from self.regexes
        for k in range(len(literal) + 1):
            yield from self.by_literal.get(literal[:k], ())


def covers(a: Any, a_lang: Language | None, b: Any, b_lang: Language | None) -> bool:
    """Does every request route `b` matches also match route `a`?"""
    if a_lang is None or b_lang is None or not path_covers(a_lang, b_lang):
        return False
    return set(a.headers) <= set(b.headers) and set(a.query_params) <= set(b.query_params)


def path_covers(a: Language, b: Language) -> bool:
    (a_kind, a_lit), (b_kind, b_lit) = a, b
    if a_kind == "exact":
        return b_kind == "exact" and b_lit == a_lit
    if a_kind == "prefix":
        return b_lit.startswith(a_lit)
    under = a_lit + "/"
    if b_kind == "prefix":
        return b_lit.startswith(under)
    return b_lit == a_lit or b_lit.startswith(under)


def language(route: Any) -> Language | None:
    if route.exact:
        return ("exact", route.match)
    if not route.regex:
        return ("prefix", route.match)
    return regex_language(route.match)


def regex_language(pattern: str) -> Language | None:
    """The path language of an RE2 pattern (matched against the whole path) of the shapes
    `L`, `L.*` and `L(/.*)?` (anchors allowed); None for any other pattern."""
    body = pattern.removeprefix("^").removesuffix("$")
    for tail, kind in (("(/.*)?", "segment"), (".*", "prefix")):
        if body.endswith(tail) and not body.endswith("\\" + tail):
            literal = unescape(body[: -len(tail)])
            return (kind, literal) if literal is not None else None
    literal = unescape(body)
    return ("exact", literal) if literal is not None else None


def unescape(text: str) -> str | None:
    """The literal an RE2 fragment stands for, or None when it holds any operator (only
    backslash escapes of punctuation are literal)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1: i + 2]
            if not nxt or nxt.isalnum() or nxt == "_":
                return None
            out.append(nxt)
            i += 2
            continue
        if c in _META:
            return None
        out.append(c)
        i += 1
    return "".join(out)
