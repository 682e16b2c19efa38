"""IngressRoute (contour.heptio.com/v1beta1) → HTTPProxy (projectcontour.io/v1), lossless.

`convert(objects)` takes every object of a snapshot and returns the HTTPProxies and v1
TLSCertificateDelegations that replace its IngressRoutes and v1beta1 delegations, plus a
warning for each field that has no exact equivalent. Nothing is dropped silently: upstream's
archived ir2proxy lost websockets, permitInsecure, the retry policy, upstream validation, the
health-check interval and the tcpproxy delegate; each is carried over here.

The one structural difference: an IngressRoute child repeats its parent's path (its route
`/blog/admin` under a delegation at `/blog`), while an HTTPProxy child's conditions are
appended to its include's (`/blog` + `/admin`). So each IngressRoute's *delegation prefix*
(the match its parent delegates it at, roots: none) is found first, and each route's
condition is its match with that prefix cut off (`child_condition`).

What is converted is what the controller serves (`Served`, read from the IngressRoute DAG's
provenance): a route the builder refused (an invalid object's partial application), a
delegation it did not follow, or TLS it could not set up would otherwise come back to life,
or fail differently, under HTTPProxy's rules. Each such omission is a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubectl_contour.objects import DELEGATION, INGRESSROUTE, SERVICE, Key, Obj, key_of, spec_of

HTTPPROXY_API = "projectcontour.io/v1"
IR_API = "contour.heptio.com/v1beta1"
CLASS_ANNOTATIONS = ("contour.heptio.com/ingress.class", "kubernetes.io/ingress.class")
UPSTREAM_PROTOCOL = "contour.heptio.com/upstream-protocol."
IR_HEALTH_DEFAULTS = {"intervalSeconds": 10, "timeoutSeconds": 2,
                      "unhealthyThresholdCount": 3, "healthyThresholdCount": 2}
"""IngressRoute's health-check defaults (spec §1.1, the code's, not its docs'), written out
explicitly so that HTTPProxy's own defaults (whose docs say 5 s) cannot change them."""


@dataclass(frozen=True, slots=True)
class Served:
    """What the controller serves of the IngressRoutes, from their DAG's provenance:
    (owner, match) of every served route, the delegations followed (parent, child), the
    hosts with TLS or a TCP proxy on port 443, and every object's invalid reason."""

    routes: frozenset[tuple[Key, str]] = frozenset()
    edges: frozenset[tuple[Key, Key]] = frozenset()
    secure_hosts: frozenset[str] = frozenset()
    invalid: tuple[tuple[Key, str], ...] = ()


def served_by(dag: Any) -> Served:
    """`Served` of a DAG built from the IngressRoutes (model.DAG)."""
    from kubectl_contour.queries.provenance import served_edges

    routes = {(route.provenance.owner, route.match) for vhost in (*dag.http, *dag.https)
              for route in vhost.routes
              if route.provenance is not None and route.provenance.kind == INGRESSROUTE}
    edges = {(parent, child) for kind, parent, child in served_edges(dag)
             if kind == INGRESSROUTE}
    secure = {v.host for v in dag.https if v.secret is not None or v.tcp_proxy is not None}
    invalid = tuple(sorted(((s.namespace, s.name), s.description) for s in dag.statuses
                           if s.kind == INGRESSROUTE and s.current == "invalid"))
    return Served(frozenset(routes), frozenset(edges), frozenset(secure), invalid)


@dataclass(slots=True)
class Conversion:
    """The converted objects (sorted by kind, namespace, name) and the warnings."""

    objects: list[Obj] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def convert(objects: Iterable[Obj], served: Served) -> Conversion:
    """Every IngressRoute and v1beta1 TLSCertificateDelegation of `objects`, converted as
    far as `served` (what the controller serves of them) goes."""
    objs = list(objects)
    irs = {key_of(o): o for o in objs if o.get("kind") == INGRESSROUTE}
    services = {key_of(o): o for o in objs if o.get("kind") == SERVICE}
    out = Conversion()
    prefixes = delegation_prefixes(irs, out.warnings)
    roots = frozenset(k for k, o in irs.items() if spec_of(o).get("virtualhost"))
    for key, reason in served.invalid:
        if key in irs:
            out.warnings.append(f"IngressRoute {key[0]}/{key[1]} is invalid ({reason}): "
                                "only what the controller serves of it is converted")
    for key in sorted(irs):
        proxy = _Proxy(irs[key], prefixes.get(key, ""), services, served, out.warnings,
                       roots)
        out.objects.append(proxy.obj)
    for obj in sorted((o for o in objs if _is_v1beta1_delegation(o)), key=key_of):
        out.objects.append(delegation(obj))
    return out


def _is_v1beta1_delegation(obj: Obj) -> bool:
    return obj.get("kind") == DELEGATION and obj.get("apiVersion") == IR_API


def delegation(obj: Obj) -> Obj:
    """TLSCertificateDelegation v1beta1 → v1: the same spec."""
    return {"apiVersion": HTTPPROXY_API, "kind": DELEGATION, "metadata": _metadata(obj)[0],
            "spec": obj.get("spec") or {}}


# -- delegation prefixes --------------------------------------------------------------------


def delegation_prefixes(irs: dict[Key, Obj], warnings: list[str]) -> dict[Key, str]:
    """Each delegated IngressRoute's absolute delegation prefix, without its trailing "/"
    (roots and undelegated objects: absent, meaning ""). Walks from every root; a child
    delegated at two different prefixes keeps the first in (root, route) order, with a
    warning: HTTPProxy gives a child one set of relative conditions."""
    found: dict[Key, str] = {}
    for key in sorted(irs):
        if spec_of(irs[key]).get("virtualhost"):
            _walk(irs, key, "", found, warnings, [key])
    return found


def _walk(irs: dict[Key, Obj], key: Key, prefix: str, found: dict[Key, str],
          warnings: list[str], path: list[Key]) -> None:
    for route in _list(spec_of(irs[key]).get("routes")):
        child = _delegate_key(route.get("delegate"), key[0])
        if child is None or child not in irs or child in path \
                or spec_of(irs[child]).get("virtualhost"):
            continue  # a root keeps its own absolute paths (and cannot be included)
        child_prefix = str(route.get("match") or "/").rstrip("/")
        if child in found and found[child] != child_prefix:
            warnings.append(f"IngressRoute {child[0]}/{child[1]} is delegated at both "
                            f"{found[child] or '/'} and {child_prefix or '/'}; its HTTPProxy "
                            f"conditions are relative to {found[child] or '/'}")
            continue
        found[child] = child_prefix
        _walk(irs, child, child_prefix, found, warnings, [*path, child])


def child_condition(match: str, prefix: str) -> list[dict[str, str]]:
    """The HTTPProxy conditions of a route `match` inside an object delegated at `prefix`
    (no trailing "/"): the match with the prefix cut off. Empty when it equals the prefix,
    since an include's prefix alone already matches the same paths."""
    if prefix and match.startswith(prefix):
        rest = match[len(prefix):]
        return [{"prefix": rest}] if rest else []
    return [{"prefix": match or "/"}]


# -- one IngressRoute -----------------------------------------------------------------------


class _Proxy:
    """One IngressRoute's HTTPProxy in `obj`; warnings go to the shared list."""

    def __init__(self, ir: Obj, prefix: str, services: dict[Key, Obj], served: Served,
                 warnings: list[str], roots: frozenset[Key]) -> None:
        self.ir, self.key, self.prefix, self.roots = ir, key_of(ir), prefix, roots
        self.services, self.served, self.warnings = services, served, warnings
        metadata, ingress_class = _metadata(ir)
        spec: dict[str, Any] = {}
        if ingress_class:
            spec["ingressClassName"] = ingress_class
        self._virtualhost(spec)
        self._routes(spec)
        self._tcpproxy(spec)
        self.obj: Obj = {"apiVersion": HTTPPROXY_API, "kind": "HTTPProxy",
                         "metadata": metadata, "spec": spec}

    def warn(self, text: str) -> None:
        self.warnings.append(f"IngressRoute {self.key[0]}/{self.key[1]}: {text}")

    def _virtualhost(self, spec: dict[str, Any]) -> None:
        vhost = spec_of(self.ir).get("virtualhost")
        if not isinstance(vhost, dict):
            return
        fqdn = str(vhost.get("fqdn", ""))
        out: dict[str, Any] = {"fqdn": fqdn}
        tls = vhost.get("tls")
        if isinstance(tls, dict) and fqdn.lower() in self.served.secure_hosts:
            out["tls"] = self._tls(tls)
            if "tcpproxy" in spec_of(self.ir):
                self.warn("tcpproxy with TLS: HTTPProxy answers plain HTTP for this fqdn "
                          "with a 301 to https (IngressRoute: no HTTP virtual host, 404)")
        elif isinstance(tls, dict):
            self.warn(f"TLS secret {tls.get('secretName', '')!r} is not usable here, so the "
                      "controller serves this fqdn over plain HTTP only; converted without "
                      "tls (HTTPProxy would serve nothing for it)")
        spec["virtualhost"] = out

    def _tls(self, tls: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if tls.get("secretName"):
            out["secretName"] = tls["secretName"]
        if tls.get("passthrough"):
            out["passthrough"] = True
        version = tls.get("minimumProtocolVersion") or "1.1"
        if version in ("1.2", "1.3"):
            out["minimumProtocolVersion"] = version
        elif not out.get("passthrough"):
            self.warn(f"minimumProtocolVersion {version!r} has no HTTPProxy equivalent (its "
                      "minimum is 1.2): TLS 1.1 clients will be refused")
        return out

    def _routes(self, spec: dict[str, Any]) -> None:
        routes, includes = [], []
        for route in _list(spec_of(self.ir).get("routes")):
            child = _delegate_key(route.get("delegate"), self.key[0])
            if not self._served(route, child):
                continue
            if child is not None:
                includes.append(self._include(route, child))
            else:
                routes.append(self._route(route))
        if routes or "routes" in spec_of(self.ir):
            spec["routes"] = routes
        if includes:
            spec["includes"] = includes

    def _served(self, route: dict[str, Any], child: Key | None) -> bool:
        """Whether the controller serves this route (or follows this delegation); a warning
        says what is left out."""
        match = str(route.get("match") or "/")
        if child is not None and child in self.roots:
            self.warn(f"delegation at {match} to {child[0]}/{child[1]}, which is a root: "
                      "an HTTPProxy root cannot include another root, so it is not "
                      "converted (the child still serves its own fqdn)")
            return False
        if child is not None:
            if (self.key, child) in self.served.edges:
                return True
            what = f"delegation to {child[0]}/{child[1]}"
        else:
            if (self.key, match) in self.served.routes:
                return True
            what = "route"
        self.warn(f"{what} at {match} is not served by the controller, so it is not "
                  "converted")
        return False

    def _include(self, route: dict[str, Any], child: Key) -> dict[str, Any]:
        match = str(route.get("match") or "/")
        out: dict[str, Any] = {"name": child[1], "namespace": child[0]}
        conditions = child_condition(match, self.prefix)
        if conditions:
            out["conditions"] = conditions
        ignored = sorted(set(route) - {"match", "delegate"})
        if ignored:
            self.warn(f"route {match}: {', '.join(ignored)} beside a delegate has no "
                      "HTTPProxy equivalent on an include (IngressRoute ignores it too)")
        return out

    def _route(self, route: dict[str, Any]) -> dict[str, Any]:
        match = str(route.get("match") or "/")
        out: dict[str, Any] = {}
        conditions = child_condition(match, self.prefix)
        if conditions:
            out["conditions"] = conditions
        services = _list(route.get("services"))
        out["services"] = [self._service(s) for s in services]
        out.update(self._route_policies(route, match))
        out.update(self._service_policies(services, match))
        return out

    def _route_policies(self, route: dict[str, Any], match: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for flag in ("enableWebsockets", "permitInsecure"):
            if route.get(flag):
                out[flag] = True
        if route.get("prefixRewrite"):
            out["pathRewritePolicy"] = {"replacePrefix": [
                {"prefix": match, "replacement": route["prefixRewrite"]}]}
        timeout = (route.get("timeoutPolicy") or {}).get("request")
        if timeout:
            out["timeoutPolicy"] = {"response": timeout}
        retry = route.get("retryPolicy")
        if isinstance(retry, dict):
            out["retryPolicy"] = _retry(retry)
        return out

    def _service(self, svc: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": svc.get("name", ""), "port": svc.get("port", 0)}
        if svc.get("weight"):
            out["weight"] = svc["weight"]
        protocol = self._protocol(svc)
        if protocol:
            out["protocol"] = protocol
        validation = svc.get("validation")
        if isinstance(validation, dict):
            out["validation"] = {"caSecret": validation.get("caSecret", ""),
                                 "subjectName": validation.get("subjectName", "")}
        return out

    def _protocol(self, svc: dict[str, Any]) -> str:
        """The Service's upstream-protocol annotation for this port, made explicit."""
        service = self.services.get((self.key[0], str(svc.get("name", ""))))
        if service is None:
            return ""
        annotations = (service.get("metadata") or {}).get("annotations") or {}
        names = {str(svc.get("port"))}
        for port in _list((service.get("spec") or {}).get("ports")):
            if port.get("port") == svc.get("port") and port.get("name"):
                names.add(str(port["name"]))
        found = ""
        for protocol in ("h2", "h2c", "tls"):  # the controller's order: a later one wins
            listed = annotations.get(UPSTREAM_PROTOCOL + protocol, "").split(",")
            if names & {p.strip() for p in listed}:
                found = protocol
        return found

    def _service_policies(self, services: list[dict[str, Any]], match: str) -> dict[str, Any]:
        """Per-service strategy and health check → the route's one policy of each."""
        out: dict[str, Any] = {}
        strategy = self._one(services, "strategy", match)
        if strategy:
            out["loadBalancerPolicy"] = {"strategy": strategy}
        check = self._one(services, "healthCheck", match)
        if isinstance(check, dict):
            out["healthCheckPolicy"] = _health_check(check)
        return out

    def _one(self, services: list[dict[str, Any]], name: str, match: str) -> Any:
        values = [s.get(name) for s in services]
        distinct = {repr(v) for v in values}
        if len(distinct) > 1:
            self.warn(f"route {match}: services have different {name} values; HTTPProxy has "
                      f"one per route, so {values[0]!r} (the first service's) applies to all")
        return values[0] if values else None

    def _tcpproxy(self, spec: dict[str, Any]) -> None:
        tcp = spec_of(self.ir).get("tcpproxy")
        if not isinstance(tcp, dict):
            return
        out: dict[str, Any] = {}
        if "services" in tcp:
            out["services"] = [{"name": s.get("name", ""), "port": s.get("port", 0)}
                               for s in _list(tcp.get("services"))]
            strategy = self._one(_list(tcp.get("services")), "strategy", "tcpproxy")
            if strategy:
                out["loadBalancerPolicy"] = {"strategy": strategy}
        child = _delegate_key(tcp.get("delegate"), self.key[0])
        if child is not None and (self.key, child) in self.served.edges:
            out["include"] = {"name": child[1], "namespace": child[0]}
        elif child is not None:
            self.warn(f"tcpproxy delegation to {child[0]}/{child[1]} is not served by the "
                      "controller, so it is not converted")
        spec["tcpproxy"] = out


def _retry(retry: dict[str, Any]) -> dict[str, Any]:
    """IngressRoute retries 5xx max(1, count) times; HTTPProxy's defaults are the same
    (retryOn 5xx, count 0 → 1), written out explicitly."""
    out: dict[str, Any] = {"count": max(1, int(retry.get("count") or 0)), "retryOn": ["5xx"]}
    if retry.get("perTryTimeout"):
        out["perTryTimeout"] = retry["perTryTimeout"]
    return out


def _health_check(check: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"path": check.get("path", "")}
    if check.get("host"):
        out["host"] = check["host"]
    for name, default in IR_HEALTH_DEFAULTS.items():
        out[name] = check.get(name) or default
    return out


def _metadata(obj: Obj) -> tuple[dict[str, Any], str]:
    """(name, namespace, labels and annotations without the class ones; the ingress class
    those named, which becomes spec.ingressClassName)."""
    meta = obj.get("metadata") or {}
    out: dict[str, Any] = {"name": meta.get("name", ""),
                           "namespace": meta.get("namespace") or "default"}
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    annotations = dict(meta.get("annotations") or {})
    ingress_class = ""
    for name in CLASS_ANNOTATIONS:
        ingress_class = ingress_class or str(annotations.pop(name, "") or "")
        annotations.pop(name, None)
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if annotations:
        out["annotations"] = annotations
    return out, ingress_class


def _delegate_key(raw: Any, namespace: str) -> Key | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return (str(raw.get("namespace") or namespace), str(raw["name"]))


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
