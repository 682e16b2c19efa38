"""Dry-run of one request against the DAG the builder produces: which vhost and route Envoy
would pick (most specific first, as model.route_order_key), why every other route did not
match (matching.py: path, header and query conditions), where it goes, what Envoy answers,
and the object chain behind it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from kubectl_contour.objects import HTTPPROXY, Snapshot, fqdn_of, key_of, ref
from kubectl_contour.queries.endpoints import service_rows
from kubectl_contour.queries.matching import describe_match, host_matches, mismatch
from kubectl_contour.queries.provenance import ChainLink, Visited, absolute, chain_links, on_the_way
from kubectl_contour.queries.proxies import PROXY_KINDS, entries
from kubectl_contour.queries.statuses import Statuses, computed_statuses, status_of

ENVOY_DEFAULT_TIMEOUT = "15s (Envoy default)"


@dataclass(frozen=True, slots=True)
class Request:
    host: str
    path: str = "/"
    scheme: str = "http"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    match: str
    regex: bool
    verdict: str
    """`matched`, `no match`, or `shadowed` (matches, but an earlier route won)."""
    conditions: str = ""
    """Every condition of the route in words (`exact /a, header x present`)."""
    reason: str = ""
    """For `no match`: the first condition the request failed."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address that would answer for a Service port (EndpointSlices preferred, as the
    controller does)."""

    address: str
    port: int
    """The endpoint's (target) port."""
    ready: bool
    target: str = ""
    """The pod behind the address (targetRef), when the Endpoints/EndpointSlice says."""


@dataclass(frozen=True, slots=True)
class Backend:
    namespace: str
    service: str
    port: int
    share: float
    """Percent of requests (Envoy weights, spec §3.5)."""
    ready: int
    not_ready: int
    external_name: str = ""
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    request: Request
    status: int
    """What Envoy answers: 200 (forwarded), 301, 404, 503; 0 = no HTTP (TLS fails, TCP proxy)."""
    summary: str
    vhost: str = ""
    route: str = ""
    candidates: tuple[Candidate, ...] = ()
    backends: tuple[Backend, ...] = ()
    chain: tuple[ChainLink, ...] = ()
    policy: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def parse_target(text: str) -> tuple[str, str]:
    """`HOST[:PORT][/PATH]` → (host lower-cased without port, path)."""
    text = re.sub(r"^[a-z]+://", "", text.strip())
    host, slash, path = text.partition("/")
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return host.lower(), "/" + path if slash else "/"


def matches(route: Any, path: str, headers: tuple[tuple[str, str], ...] = ()) -> bool:
    return not mismatch(route, path, headers)


def ordered_routes(vhost: Any) -> list[Any]:
    from controller.dag.model import route_order_key

    return sorted(vhost.routes, key=route_order_key, reverse=True)


def find_vhost(vhosts: tuple[Any, ...], host: str) -> Any:
    """Envoy's choice: the exact host, else the longest matching `*.suffix`, else `*`."""
    by_host = {v.host: v for v in vhosts}
    if host in by_host:
        return by_host[host]
    wild = sorted((v for v in vhosts if v.host.startswith("*.") and host_matches(v.host, host)),
                  key=lambda v: -len(v.host))
    return wild[0] if wild else by_host.get("*")


def explain(snapshot: Snapshot, dag: Any, request: Request) -> Explanation:
    statuses = computed_statuses(dag.statuses)
    notes = tuple(header_notes(snapshot, request))
    vhosts = dag.https if request.scheme == "https" else dag.http
    vhost = find_vhost(vhosts, request.host)
    visited = visited_for(snapshot, request, vhost)
    problems = tuple(host_problems(statuses, visited))
    if vhost is None:
        return no_vhost(snapshot, dag, request, problems=problems, notes=notes)
    if getattr(vhost, "tcp_proxy", None) is not None:
        return Explanation(request, 0, f"{request.host}:443 is a TCP proxy: no HTTP routing",
                           vhost=vhost.host, problems=problems, notes=notes)
    routes = ordered_routes(vhost)
    chosen = next((r for r in routes if matches(r, request.path, request.headers)), None)
    candidates = tuple(candidate(r, chosen, request) for r in routes)
    base = Explanation(request, 404, "", vhost=vhost.host, candidates=candidates,
                       problems=problems + tuple(dropped_routes(snapshot, statuses, request,
                                                                vhost, visited)), notes=notes)
    if chosen is None:
        return replace(base, summary=f"404: no route on {vhost.host} matches {request.path}")
    return routed(snapshot, statuses, base, chosen)


def candidate(route: Any, chosen: Any, request: Request) -> Candidate:
    conditions = describe_match(route)
    if route is chosen:
        return Candidate(route.match, route.regex, "matched", conditions)
    why = mismatch(route, request.path, request.headers)
    return Candidate(route.match, route.regex, "no match" if why else "shadowed", conditions,
                     why)


def routed(snapshot: Snapshot, statuses: Statuses,
           base: Explanation, route: Any) -> Explanation:
    req = base.request
    chain = tuple(chain_links(snapshot, statuses, route))
    policy = (*policy_rows(route), ("upstream path", upstream_path(route, req.path)))
    if route.https_redirect and req.scheme == "http":
        return replace(base, status=301, route=route.match, chain=chain, policy=policy,
                       summary=f"301: redirect to https://{req.host}{req.path}")
    answer = own_answer(route)
    if answer is not None:
        return replace(base, status=answer[0], summary=answer[1], route=route.match,
                       chain=chain, policy=policy)
    backends = tuple(backends_of(snapshot, route))
    serving = [b for b in backends if b.share > 0]
    if not serving:
        summary = "503: the route has no upstream with traffic"
        status = 503
    elif all(b.ready == 0 and not b.external_name for b in serving):
        summary, status = "503: no ready endpoints (no healthy upstream)", 503
    else:
        dark = sum(b.share for b in serving if b.ready == 0 and not b.external_name)
        summary = "200: forwarded" + (f" ({dark:g}% of requests get 503: no ready endpoints)"
                                      if dark else "")
        status = 200
    return replace(base, status=status, summary=summary, route=route.match, chain=chain,
                   policy=policy, backends=backends)


def own_answer(route: Any) -> tuple[int, str] | None:
    """(status, summary) when Envoy answers the request itself: a direct response (also
    what a missing include or Service becomes) or a redirect."""
    direct = getattr(route, "direct_response", None)
    if direct is not None and not route.clusters:
        body = f" with body {direct.body!r}" if direct.body else ""
        return direct.status, f"{direct.status}: answered by Envoy itself{body}"
    redirect = getattr(route, "redirect", None)
    if redirect is not None:
        target = "".join(filter(None, (redirect.scheme and f"{redirect.scheme}://",
                                       redirect.hostname, redirect.port and f":{redirect.port}",
                                       redirect.path or redirect.prefix)))
        return redirect.status_code, f"{redirect.status_code}: redirect to {target or 'same URL'}"
    return None


def shares(clusters: tuple[Any, ...]) -> list[float]:
    """Envoy's split (spec §3.5): one cluster gets all; all-zero weights split evenly."""
    if len(clusters) == 1:
        return [100.0]
    total = sum(c.weight for c in clusters)
    if total == 0:
        return [round(100.0 / len(clusters), 2)] * len(clusters)
    return [round(100.0 * c.weight / total, 2) for c in clusters]


def backends_of(snapshot: Snapshot, route: Any) -> list[Backend]:
    out = []
    for cluster, share in zip(route.clusters, shares(route.clusters), strict=True):
        svc = cluster.service
        rows = service_rows(snapshot, (svc.namespace, svc.name), port=svc.port)
        ready = sum(1 for r in rows if r.ready)
        endpoints = tuple(Endpoint(r.address, r.target_port, r.ready, r.target) for r in rows)
        out.append(Backend(svc.namespace, svc.name, svc.port, share, ready, len(rows) - ready,
                           svc.external_name, endpoints))
    return out


def policy_rows(route: Any) -> list[tuple[str, str]]:
    from controller.dag.model import Timeout

    if route.timeout is None:
        timeout = ENVOY_DEFAULT_TIMEOUT
    else:
        timeout = "infinite" if route.timeout == Timeout.INFINITE else f"{route.timeout:g}s"
    retry = "none"
    if route.retry is not None:
        r = route.retry
        retry = f"on {r.retry_on}, {r.num_retries or 'Envoy default'} retries" + (
            f", {r.per_try_timeout:g}s per try" if r.per_try_timeout else "")
    return [("timeout", timeout), ("retry", retry),
            ("prefix rewrite", rewrite_text(route)),
            ("websocket", "yes" if route.websocket else "no"),
            ("http→https redirect", "yes" if route.https_redirect else "no")]


def rewrites(route: Any) -> list[tuple[str, str]]:
    """(matched prefix, replacement) pairs: an IngressRoute prefixRewrite, then HTTPProxy's
    replacePrefix."""
    pairs = list(getattr(route, "replace_prefix", ()))
    if route.prefix_rewrite:
        pairs.insert(0, (route.match, route.prefix_rewrite))
    return pairs


def upstream_path(route: Any, path: str) -> str:
    """The path the backend sees: the matched prefix replaced by an IngressRoute
    prefixRewrite or the HTTPProxy replacePrefix chosen for the route."""
    for old, new in rewrites(route):
        if path.startswith(old):
            return new + path[len(old):]
    return path


def rewrite_text(route: Any) -> str:
    """`/old → /new` for an IngressRoute prefixRewrite or each HTTPProxy replacePrefix."""
    return ", ".join(f"{old} → {new}" for old, new in rewrites(route)) or "none"


def no_vhost(snapshot: Snapshot, dag: Any, request: Request, *, problems: tuple[str, ...],
             notes: tuple[str, ...]) -> Explanation:
    if request.scheme == "https":
        plain = find_vhost(dag.http, request.host)
        why = ("no TLS certificate for this host: the TLS handshake fails (no filter chain "
               "for this SNI)") if plain is not None else "no virtual host for this host"
        return Explanation(request, 0 if plain else 404, f"{'TLS' if plain else '404'}: {why}",
                           problems=problems, notes=notes)
    return Explanation(request, 404, f"404: no virtual host for {request.host}",
                       problems=problems, notes=notes)


def visited_for(snapshot: Snapshot, request: Request, vhost: Any) -> list[Visited]:
    """The roots for the host, then every object on the way to the request (provenance)."""
    roots = [Visited(kind, key_of(o), "") for kind in PROXY_KINDS
             for o in snapshot.of_kind(kind) if (fqdn_of(o) or "").strip().lower() == request.host]
    bare = request.path.partition("?")[0]
    found = on_the_way(snapshot, vhost.routes if vhost is not None else (), bare)
    keys = {(v.kind, v.key) for v in found}
    return [v for v in roots if (v.kind, v.key) not in keys] + found


def host_problems(statuses: Statuses, visited: list[Visited]) -> list[str]:
    """The objects on the way to this request that are not valid."""
    out = []
    for v in visited:
        st = status_of(statuses, v.kind, v.key)
        if st is None or st.current != "valid":
            out.append(f"{v.kind} {ref(v.key)}: "
                       + (st.summary() if st else "no status (not processed)"))
    return out


def dropped_routes(snapshot: Snapshot, statuses: Statuses, request: Request, vhost: Any,
                   visited: list[Visited]) -> list[str]:
    """Routes declared for this path by an object on the way that the builder did not serve."""
    out = []
    for v in visited:
        obj = snapshot.get(v.kind, v.key)
        served = served_matches(vhost, v)
        for e in entries(v.kind, obj) if obj else []:
            full = absolute(v.kind, v.prefix, e.prefix)
            if e.field != "routes" or e.target is not None or not request.path.startswith(full):
                continue
            if full in served or (v.kind == HTTPPROXY and served):
                continue
            st = status_of(statuses, v.kind, v.key)
            why = st.summary() if st else "not served"
            out.append(f"route {e.match} in {ref(v.key)} is not served ({why})")
    return sorted(set(out))


def served_matches(vhost: Any, v: Visited) -> set[str]:
    """The matches of the vhost's routes that `v` declared (provenance owner). An HTTPProxy
    serves all its routes or none (v1.33), so any served route means all are."""
    return {r.match for r in vhost.routes
            if r.provenance is not None and r.provenance.kind == v.kind
            and r.provenance.owner == v.key}


def header_notes(snapshot: Snapshot, request: Request) -> list[str]:
    """IngressRoute-only vhosts ignore request headers for routing: say so."""
    names = sorted({k.lower() for k, _ in request.headers} - {"host"})
    if not names or any((fqdn_of(o) or "").lower() == request.host
                        for o in snapshot.of_kind(HTTPPROXY)):
        return []
    return [f"headers {', '.join(names)} do not affect routing: IngressRoute v1beta1 routes "
            "match on the path only (a Cookie strategy hashes X-Contour-Session-Affinity)"]
