"""Status rows: every IngressRoute and HTTPProxy (as the builder computes it, plus the stored
status when it differs; an HTTPProxy's reason is its first error, its conditions ride along),
every Ingress (served, partly served, not served, or filtered by class) and every Gateway API
object (gateway_status.py)."""

from __future__ import annotations

from typing import Any

from kubectl_contour.objects import (
    HTTPPROXY,
    INGRESS,
    INGRESSROUTE,
    SERVICE,
    Obj,
    Snapshot,
    fqdn_of,
    key_of,
    spec_of,
)
from kubectl_contour.queries.endpoints import service_ports
from kubectl_contour.queries.gateway_status import gateway_rows
from kubectl_contour.queries.proxies import PROXY_KINDS
from kubectl_contour.queries.statuses import StatusRow, computed_statuses, stored_if_different

CLASS_ANNOTATIONS = ("contour.heptio.com/ingress.class", "kubernetes.io/ingress.class")


def status_rows(snapshot: Snapshot, dag: Any, *, scope: str | None,
                ingress_class: str) -> list[StatusRow]:
    rows = proxy_rows(snapshot, dag) + ingress_rows(snapshot, dag, ingress_class=ingress_class)
    rows += gateway_rows(snapshot, dag) + rejected_rows(snapshot)
    return sorted((r for r in rows if scope is None or r.namespace == scope),
                  key=lambda r: (r.namespace, r.name, r.kind))


def proxy_rows(snapshot: Snapshot, dag: Any) -> list[StatusRow]:
    """One row per IngressRoute and HTTPProxy; a child shows `(delegate)` or `(include)`."""
    statuses = computed_statuses(dag.statuses)
    rows = []
    for kind in PROXY_KINDS:
        for obj in snapshot.of_kind(kind):
            ns, name = key_of(obj)
            st = statuses.get((kind, ns, name))
            stored = stored_if_different(obj, st, live=snapshot.live)
            fqdn = fqdn_of(obj)
            child = "(delegate)" if kind == INGRESSROUTE else "(include)"
            rows.append(StatusRow(kind, ns, name, fqdn if fqdn is not None else child,
                                  st.current if st else "", st.reason if st else
                                  "no status computed (not processed)", *stored,
                                  conditions=st.conditions if st else ()))
    return rows


def rejected_rows(snapshot: Snapshot) -> list[StatusRow]:
    """Objects the validation boundary refused, of any kind: the controller treats them as
    absent. An IngressRoute's or HTTPProxy's status says `invalid`, as the controller
    writes it."""
    return [
        StatusRow(r.kind or "?", r.namespace, r.name, "",
                  "invalid" if r.kind in (INGRESSROUTE, HTTPPROXY) else "rejected",
                  f"{'; '.join(r.reasons)} ({r.source})")
        for r in snapshot.rejected
    ]


def ingress_class_of(obj: Obj) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    for key in CLASS_ANNOTATIONS:
        if key in annotations:
            return str(annotations[key] or "")
    return str(spec_of(obj).get("ingressClassName") or "")


def backend_of(backend: Any) -> tuple[str, str]:
    """(service name, port as text) from a v1 or v1beta1 backend."""
    if not isinstance(backend, dict):
        return ("", "")
    svc = backend.get("service")
    if isinstance(svc, dict):
        port = svc.get("port") or {}
        return (str(svc.get("name") or ""), str(port.get("number") or port.get("name") or ""))
    return (str(backend.get("serviceName") or ""), str(backend.get("servicePort") or ""))


def ingress_backends(obj: Obj) -> list[tuple[str, str, str, str]]:
    """(host, path, service, port) for every path, default backend as (`*`, `/`)."""
    spec = spec_of(obj)
    out = []
    default = spec.get("defaultBackend") or spec.get("backend")
    if default:
        out.append(("*", "/", *backend_of(default)))
    for rule in spec.get("rules") or []:
        host = str(rule.get("host") or "*").lower()
        for path in (rule.get("http") or {}).get("paths") or []:
            out.append((host, str(path.get("path") or "/"), *backend_of(path.get("backend"))))
    return out


def port_number(snapshot: Snapshot, namespace: str, service: str, port: str) -> int | None:
    svc = snapshot.get(SERVICE, (namespace, service))
    for p in service_ports(svc) if svc else []:
        if port in (str(p.get("port")), str(p.get("name") or "")):
            return int(p.get("port") or 0)
    return None


def path_served(dag: Any, *, host: str, namespace: str, service: str, port: int) -> bool:
    for vhost in (*dag.http, *dag.https):
        if vhost.host != host:
            continue
        for route in vhost.routes:
            if any((c.service.namespace, c.service.name, c.service.port) ==
                   (namespace, service, port) for c in route.clusters) or route.https_redirect:
                return True
    return False


def ingress_rows(snapshot: Snapshot, dag: Any, *, ingress_class: str) -> list[StatusRow]:
    rows = []
    for obj in snapshot.of_kind(INGRESS):
        ns, name = key_of(obj)
        paths = ingress_backends(obj)
        hosts = ",".join(sorted({h for h, *_ in paths})) or "-"
        cls = ingress_class_of(obj)
        if cls and cls != ingress_class:
            rows.append(StatusRow(INGRESS, ns, name, hosts, "ignored",
                                  f"ingress class {cls!r} is not {ingress_class!r}"))
            continue
        rows.append(StatusRow(INGRESS, ns, name, hosts, *ingress_verdict(snapshot, dag, obj)))
    return rows


def ingress_verdict(snapshot: Snapshot, dag: Any, obj: Obj) -> tuple[str, str]:
    ns = key_of(obj)[0]
    missing, unserved, served = [], [], 0
    for host, path, service, port in ingress_backends(obj):
        number = port_number(snapshot, ns, service, port)
        if number is None:
            missing.append(f"Service {service}:{port} missing ({host}{path} skipped)")
        elif path_served(dag, host=host, namespace=ns, service=service, port=number):
            served += 1
        else:
            unserved.append(f"{host}{path} not served (overridden or http not allowed)")
    problems = missing + unserved
    if not problems:
        return ("served", f"{served} path(s) served" if served else "no paths")
    status = "partly served" if served else "not served"
    return (status, "; ".join(problems))
