"""Ingress (networking.k8s.io/v1) → secure vhosts and routes (spec §2.1, §2.2, §0.6).

Two steps, run before IngressRoutes: `secure_vhosts` (step a: TLS entries with a usable,
permitted secret) and `routes` (step b). Both return plain data in Ingress (namespace, name)
order; the builder applies them, later writers overwriting earlier ones (the overlay rule).

Paths become Envoy matches:
- ImplementationSpecific or no pathType: upstream v1beta1 semantics, a string prefix, or a
  whole-path regex when the path has any of `^+*[]%`;
- Prefix: segment-wise, as the regex `^<escaped path>(/.*)?$` (`/` stays a plain prefix);
- Exact: the regex `^\\/<escaped rest>$`. The redundant `\\/` makes exact routes sort before
  the Prefix regexes of the same path (route_order_key is reverse lexicographic), so an exact
  match wins as Ingress v1 requires.
A path Envoy would reject or never match (not absolute, whitespace or control characters, a
regex RE2 cannot compile) is skipped: one bad path must never NACK the whole route table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Container, Iterator
from dataclasses import replace
from typing import Protocol

from controller.dag.model import Cluster, Provenance, RetryPolicy, Route, Secret, ServicePort
from controller.dag.secrets import split_secret
from controller.dag.store import ObjectStore
from controller.k8s import annotations as ann
from controller.k8s.objects import Key, valid_hostname
from controller.k8s.views import BackendView, IngressView

REGEX_CHARS = frozenset("^+*[]%")
RE2_MAX_PROGRAM_SIZE = 100
"""Envoy's default `re2.max_program_size.error_level`: a bigger regex is a NACK."""

IngressRoute = tuple[str, Route | None, Route | None]
"""(host, the port-80 route or None, the port-443 route or None)."""


class IngressReads(Protocol):
    """What the Ingress steps read from the store (`ObjectStore`, or `deps.Recorder`)."""

    def service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def service_port_named(self, key: Key, name: str) -> ServicePort | None: ...

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]: ...


def secure_vhosts(store: ObjectStore) -> dict[str, tuple[Secret, str]]:
    """Step (a): host → (secret, minimum TLS version) from every Ingress TLS entry whose
    secret is usable and permitted (§2.1). A later Ingress overwrites an earlier one."""
    out: dict[str, tuple[Secret, str]] = {}
    for key in sorted(store.ingresses):
        for host, value in tls_entries(store.ingresses[key], store):
            out[host] = value
    return out


def tls_entries(ing: IngressView,
                store: IngressReads) -> Iterator[tuple[str, tuple[Secret, str]]]:
    """One Ingress's part of step (a), in its TLS entries' order (a later one overwrites)."""
    version = ann.tls_minimum_protocol_version(ing.annotations)
    for tls in ing.tls:
        secret, permitted = store.tls_secret(
            split_secret(tls.secret_name, ing.namespace), ing.namespace
        )
        if secret is None or not permitted:
            continue
        for host in tls.hosts:
            h = host.lower()
            if valid_hostname(h, allow_wildcard=True):
                yield h, (secret, version)


def routes(store: ObjectStore, secure_hosts: Container[str]) -> Iterator[IngressRoute]:
    """Step (b): every route of every Ingress, in (namespace, name), rule, path order."""
    for key in sorted(store.ingresses):
        yield from ingress_routes(store.ingresses[key], store, secure_hosts)


def ingress_routes(
    ing: IngressView, store: IngressReads, secure_hosts: Container[str]
) -> Iterator[IngressRoute]:
    a = ing.annotations
    redirect = ann.force_ssl_redirect(a)
    on_http = redirect or ann.http_allowed(a)
    template = Route(match="/", timeout=ann.request_timeout(a), retry=_retry(a),
                     provenance=Provenance("Ingress", (ing.key,)))
    websockets = ann.websocket_routes(a)
    for rule in ing.rules:
        host = _host(rule.host)
        if host is None:
            continue
        for path in rule.paths:
            match = path_match(path.path, path.path_type)
            port = _service_port(store, ing.namespace, path.backend)
            if match is None or port is None:
                continue  # upstream skips a path whose Service is missing, silently
            route = replace(
                template,
                match=match[0],
                regex=match[1],
                clusters=(Cluster(port),),
                websocket=(path.path or "/") in websockets,
            )
            r80 = (replace(route, https_redirect=True) if redirect else route) if on_http else None
            r443 = route if host != "*" and host in secure_hosts else None
            yield host, r80, r443


def skipped_paths(ing: IngressView) -> tuple[str, ...]:
    """Why each rule or path the builder skips is skipped (upstream skipped them silently;
    issue 7: a bad object is always reported). Empty for an Ingress served whole."""
    out: list[str] = []
    for rule in ing.rules:
        where = f"host {rule.host!r}" if rule.host else "the default backend"
        if _host(rule.host) is None:
            out.append(f"{where}: not a host name Envoy can match; its paths are skipped")
            continue
        for path in rule.paths:
            problem = _path_problem(path.path or "/", path.path_type)
            if problem:
                out.append(f"{where} path {path.path!r}: {problem}; the path is skipped")
    return tuple(out)


def _path_problem(path: str, path_type: str) -> str:
    """The reason `path_match` refuses a path, or "" when it takes it."""
    if path_match(path, path_type) is not None:
        return ""
    if not path.startswith("/"):
        return "must start with /"
    if not clean(path):
        return "must not contain whitespace or control characters"
    if path_type not in ("", "ImplementationSpecific", "Exact", "Prefix"):
        return f"unknown pathType {path_type!r}"
    return "not a regular expression RE2 accepts within Envoy's program size"


def _host(host: str) -> str | None:
    """ "" (and "*") → the catch-all `*`; otherwise the lower-cased host if Envoy can use it."""
    h = host.lower()
    if h in ("", "*"):
        return "*"
    return h if valid_hostname(h, allow_wildcard=True) else None


def _retry(annotations: dict[str, str]) -> RetryPolicy | None:
    retry_on = ann.retry_on(annotations)
    if not retry_on:
        return None
    return RetryPolicy(retry_on, ann.num_retries(annotations), ann.per_try_timeout(annotations))


def _service_port(
    store: IngressReads, namespace: str, backend: BackendView | None
) -> ServicePort | None:
    """Port by number; a port name by name, then (upstream quirk) a numeric name by number."""
    if backend is None or not backend.service:
        return None
    key = (namespace, backend.service)
    if backend.port_number is not None:
        return store.service_port(key, backend.port_number)
    named = store.service_port_named(key, backend.port_name)
    if named is None and backend.port_name.isdigit() and backend.port_name.isascii():
        return store.service_port(key, int(backend.port_name))
    return named


# -- paths ------------------------------------------------------------------------------------


def path_match(path: str, path_type: str) -> tuple[str, bool] | None:
    """(match, is_regex) for an Ingress path, or None when the path must be skipped."""
    path = path or "/"
    if not path.startswith("/") or not clean(path):
        return None
    if path_type == "Exact":
        return "^\\/" + re2_escape(path[1:]) + "$", True
    if path_type == "Prefix":
        trimmed = path.rstrip("/")
        return ("/", False) if not trimmed else ("^" + re2_escape(trimmed) + "(/.*)?$", True)
    if path_type not in ("", "ImplementationSpecific"):
        return None
    if REGEX_CHARS.isdisjoint(path):
        return path, False
    return (path, True) if re2_compatible(path) else None


def clean(text: str) -> bool:
    """No whitespace and no control or other non-printable characters."""
    return " " not in text and text.isprintable()


def re2_escape(text: str) -> str:
    """Escape every ASCII character that is special (or might be) in RE2 syntax."""
    return "".join(
        "\\" + c if c.isascii() and not c.isalnum() and c not in "/_-~" else c for c in text
    )


# -- RE2 compatibility --------------------------------------------------------------------------

_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_GROUP = re.compile(r"\(\?(?:[ims]*(?:-[ims]+)?[:)]|P<[A-Za-z0-9_]+>)")
_ESCAPES_OK = frozenset("afnrtvdDsSwWbBA0")


def re2_compatible(pattern: str) -> bool:
    """True when both Python's `re` and Envoy's RE2 accept `pattern` with the same meaning:
    no lookarounds, backreferences, possessive or atomic groups, conditionals, unsupported
    flags or escapes, repeat counts above 1000, POSIX classes; and a program small enough."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return _scan(pattern) and _program_size(pattern) <= RE2_MAX_PROGRAM_SIZE


def _scan(p: str) -> bool:
    i, after_quantifier = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            if not _escape_ok(p, i + 1):
                return False
            i, after_quantifier = i + 2, False
            continue
        if c == "[":
            end = _class_end(p, i)
            if end < 0:
                return False
            i, after_quantifier = end + 1, False
            continue
        if c == "(" and p.startswith("(?", i) and not _GROUP.match(p, i):
            return False
        if c == "+" and after_quantifier:
            return False  # possessive quantifier
        if c == "{" and (m := _REPEAT.match(p, i)):
            if any(int(n) > 1000 for n in m.groups() if n):
                return False
            i, after_quantifier = m.end(), True
            continue
        after_quantifier = c in "*+?" and not after_quantifier  # `*?` is lazy, not a repeat
        i += 1
    return True


def _class_end(p: str, start: int) -> int:
    """Index of the `]` closing the class opened at `start`, or -1 when the class holds
    something RE2 reads differently (POSIX `[:name:]`, bad escapes) or never closes."""
    i = start + 1
    i += p.startswith("^", i)
    i += p.startswith("]", i)  # a leading `]` is a literal in both dialects
    while i < len(p):
        if p[i] == "\\":
            if not _escape_ok(p, i + 1):
                return -1
            i += 2
        elif p.startswith("[:", i):
            return -1
        elif p[i] == "]":
            return i
        else:
            i += 1
    return -1


def _escape_ok(p: str, i: int) -> bool:
    if i >= len(p):
        return False
    c = p[i]
    if c == "x":
        return re.fullmatch(r"[0-9A-Fa-f]{2}", p[i + 1 : i + 3]) is not None
    if c in _ESCAPES_OK:
        return True
    return c.isascii() and c.isprintable() and not c.isalnum() and c != "_"


def _program_size(p: str) -> int:
    """A conservative estimate of RE2's program size: one instruction per character, ~10
    for `.` and negated classes (UTF-8 expands them), plus the copies a {n,m} makes, plus
    the 4 every program has (measured with Envoy 1.40: 96 literals pass, 97 are 101 > 100)."""
    size = 4 + len(p) + 10 * (p.count(".") - p.count("\\.") + p.count("[^"))
    for m in _REPEAT.finditer(p):
        size += max(int(n) for n in m.groups() if n)
    return size
