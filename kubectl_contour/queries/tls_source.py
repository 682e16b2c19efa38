"""Where a host's certificate comes from: on the Kubernetes side the secure virtual host the
builder made for it (its secret), the root objects that claim the name and the
TLSCertificateDelegation that lets them use a secret of another namespace; on Envoy's side
the filter chain its listeners pick for the SNI and the SDS secret that chain names."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import (
    DELEGATION,
    INGRESS,
    Key,
    Obj,
    Snapshot,
    fqdn_of,
    key_of,
    ref,
    spec_of,
)
from kubectl_contour.queries.matching import host_matches
from kubectl_contour.queries.proxies import PROXY_KINDS
from kubectl_contour.queries.statuses import computed_statuses, status_of


@dataclass(frozen=True, slots=True)
class TlsSource:
    vhost: str
    """The secure virtual host that serves the name (itself or a `*.` wildcard); "" none."""
    roots: tuple[str, ...]
    """`KIND ns/name` of each object claiming the vhost's name with TLS."""
    secret: str
    """`ns/name` of the Kubernetes secret the vhost serves; "" for none or passthrough."""
    delegations: tuple[str, ...]
    """`TLSCertificateDelegation ns/name (apiVersion)` granting the secret to a root of
    another namespace."""
    note: str = ""


def tls_source(snapshot: Snapshot, dag: Any, host: str) -> TlsSource:
    """What the builder's DAG says serves TLS for `host`."""
    from kubectl_contour.queries.route import find_vhost

    vhost = find_vhost(dag.https, host.lower())
    if vhost is None:
        fallback = getattr(dag, "fallback_secret", None)
        note = f"no secure virtual host for {host}: Envoy has no filter chain for this SNI"
        if fallback is not None:
            note += (f" (the fallback certificate {fallback.namespace}/{fallback.name} "
                     "answers names no virtual host claims)")
        return TlsSource("", (), "", (), note)
    roots = claimants(snapshot, dag, vhost.host)
    if vhost.secret is None:
        return TlsSource(vhost.host, tuple(r for _, r in roots), "", (),
                         "TLS passthrough: Envoy forwards the handshake, the certificate is "
                         "the backend's")
    secret = (vhost.secret.namespace, vhost.secret.name)
    grants = sorted({g for ns, _ in roots if ns != secret[0]
                     for g in delegations_for(snapshot, secret, ns)})
    return TlsSource(vhost.host, tuple(r for _, r in roots), ref(secret), tuple(grants))


def claimants(snapshot: Snapshot, dag: Any, fqdn: str) -> list[tuple[str, str]]:
    """(namespace, `KIND ns/name`) of the valid roots (IngressRoute, HTTPProxy) and the
    Ingresses whose TLS section names `fqdn`."""
    statuses = computed_statuses(dag.statuses)
    out = []
    for kind in PROXY_KINDS:
        for obj in snapshot.of_kind(kind):
            st = status_of(statuses, kind, key_of(obj))
            if (fqdn_of(obj) or "").lower() == fqdn and st is not None and st.current == "valid":
                out.append((key_of(obj)[0], f"{kind} {ref(key_of(obj))}"))
    for obj in snapshot.of_kind(INGRESS):
        if fqdn in ingress_tls_hosts(obj):
            out.append((key_of(obj)[0], f"{INGRESS} {ref(key_of(obj))}"))
    return out


def ingress_tls_hosts(obj: Obj) -> set[str]:
    tls = spec_of(obj).get("tls")
    return {str(h).lower() for t in tls if isinstance(t, dict) for h in t.get("hosts") or []
            } if isinstance(tls, list) else set()


def delegations_for(snapshot: Snapshot, secret: Key, namespace: str) -> list[str]:
    """The delegations (either API version) in the secret's namespace that grant it to
    `namespace`: by name, or to exactly `*` (controller/dag/secrets.py's rule)."""
    from controller.k8s.views import delegation_views

    out = []
    for obj in snapshot.of_kind(DELEGATION):
        if key_of(obj)[0] != secret[0]:
            continue
        if any(d.secret_name == secret[1] and (d.targets == ("*",) or namespace in d.targets)
               for d in delegation_views(obj)):
            out.append(f"{DELEGATION} {ref(key_of(obj))} ({obj.get('apiVersion', '')})")
    return out


# -- Envoy's side: /config_dump?resource=dynamic_listeners and dynamic_active_secrets ------


def sni_secret(listeners: dict[str, Any], sni: str) -> str:
    """The SDS secret of the filter chain Envoy picks for `sni` (an exact server name, else
    the longest `*.` wildcard, else a chain without server names); "" when no chain serves
    TLS for it."""
    from kubectl_contour.queries.envoy import section

    best: tuple[int, str] | None = None
    for item in section(listeners, "listeners").get("dynamic_listeners") or []:
        listener = ((item.get("active_state") or {}).get("listener") or {})
        for chain in listener.get("filter_chains") or []:
            rank = sni_rank((chain.get("filter_chain_match") or {}).get("server_names"), sni)
            name = chain_secret(chain)
            if rank is not None and name and (best is None or rank > best[0]):
                best = (rank, name)
    return best[1] if best else ""


def sni_rank(names: Any, sni: str) -> int | None:
    """How well a chain's server names fit `sni`: exact beats longer wildcards beat shorter
    ones beat a chain for any name; None when it does not apply."""
    if not names:
        return 0
    if sni in names:
        return 1 << 16
    fits = [len(n) for n in names if n.startswith("*.") and host_matches(n, sni)]
    return max(fits) if fits else None


def chain_secret(chain: dict[str, Any]) -> str:
    typed = (chain.get("transport_socket") or {}).get("typed_config") or {}
    configs = (typed.get("common_tls_context") or {}).get("tls_certificate_sds_secret_configs")
    return str((configs or [{}])[0].get("name") or "")


def secret_chain(secrets: dict[str, Any], name: str) -> bytes:
    """The PEM certificate chain of one SDS secret Envoy holds (the private key is never
    read); b"" when Envoy does not hold it."""
    from kubectl_contour.queries.envoy import section

    for item in section(secrets, "secrets").get("dynamic_active_secrets") or []:
        if item.get("name") != name:
            continue
        chain = ((item.get("secret") or {}).get("tls_certificate") or {}).get(
            "certificate_chain") or {}
        if "inline_string" in chain:
            return str(chain["inline_string"]).encode()
        try:
            return base64.b64decode(str(chain.get("inline_bytes") or ""), validate=True)
        except (binascii.Error, ValueError):
            return b""
    return b""
