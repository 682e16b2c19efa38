"""Findings about hosts and TLS (CTR3xxx): fqdns claimed twice, hosts shared by an Ingress
and a root, TLS secrets used across namespaces without a TLSCertificateDelegation, and
certificates that expired, expire soon or do not name their host.

Everything is read from the controller's store (what it holds after the ingress-class
filter and secret validation), so the verdicts agree with the builder's: claims follow
controller/dag/claims.py (an HTTPProxy keeps an fqdn an IngressRoute also names; duplicates
within a kind are all refused), delegation is the store's own `tls_secret` answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import HTTPPROXY, INGRESS, INGRESSROUTE, SECRET, Key, ref
from kubectl_contour.queries.analyze_model import EXPIRY_WARNING_DAYS, Finding, Inputs, finding


@dataclass(frozen=True, slots=True, order=True)
class TLSUse:
    """One object terminating TLS for `hosts` with the Secret `secret`."""

    kind: str
    key: Key
    hosts: tuple[str, ...]
    secret: Key


def host_findings(inputs: Inputs) -> Iterator[Finding]:
    yield from claim_findings(inputs)
    uses = tls_uses(inputs)
    yield from delegation_findings(inputs, uses)
    yield from certificate_findings(inputs, uses)


def roots_by_fqdn(views: Iterable[Any]) -> dict[str, list[Key]]:
    """Lower-cased fqdn → the roots naming it, sorted (a blank fqdn claims nothing)."""
    out: dict[str, list[Key]] = {}
    for view in views:
        if view.is_root and view.fqdn.strip():
            out.setdefault(view.fqdn.lower(), []).append(view.key)
    return {fqdn: sorted(keys) for fqdn, keys in out.items()}


def claim_findings(inputs: Inputs) -> Iterator[Finding]:
    """CTR3001 duplicates within a kind, CTR3002 IngressRoutes losing an fqdn to an
    HTTPProxy, CTR3003 Ingress hosts that are also a root's fqdn."""
    store = inputs.store
    ir = roots_by_fqdn(store.ingressroutes.values())
    hp = roots_by_fqdn(store.httpproxies.values())
    for kind, groups in ((INGRESSROUTE, ir), (HTTPPROXY, hp)):
        for fqdn, keys in sorted(groups.items()):
            for key in keys if len(keys) > 1 else ():
                others = ", ".join(ref(k) for k in keys if k != key)
                yield finding("CTR3001", kind, key, f"fqdn {fqdn} is also the fqdn of {kind} "
                              f"{others}: the builder serves none of them")
    for fqdn, keys in sorted(ir.items()):
        for key in keys if fqdn in hp else ():
            yield finding("CTR3002", INGRESSROUTE, key, f"fqdn {fqdn} is also claimed by "
                          f"HTTPProxy {', '.join(map(ref, hp[fqdn]))}, which keeps it: this "
                          "IngressRoute is not served")
    yield from shared_hosts(inputs, {**{f: (INGRESSROUTE, k) for f, k in ir.items()},
                                     **{f: (HTTPPROXY, k) for f, k in hp.items()}})


def shared_hosts(inputs: Inputs, roots: dict[str, tuple[str, list[Key]]]) -> Iterator[Finding]:
    for key, view in sorted(inputs.store.ingresses.items()):
        for host in sorted({r.host.lower() for r in view.rules} & set(roots)):
            kind, keys = roots[host]
            yield finding("CTR3003", INGRESS, key, f"host {host} is also the fqdn of {kind} "
                          f"{', '.join(map(ref, keys))}: their routes share one virtual host "
                          "(the root's replace the Ingress's where the matches are equal)")


def tls_uses(inputs: Inputs) -> list[TLSUse]:
    """Every TLS termination the objects ask for (roots with a secretName, Ingress TLS
    entries), sorted."""
    from controller.dag.secrets import split_secret

    store = inputs.store
    out = []
    for key, ir in store.ingressroutes.items():
        if ir.is_root and ir.tls is not None and ir.tls.secret_name.strip():
            out.append(TLSUse(INGRESSROUTE, key, (ir.fqdn.lower(),),
                              split_secret(ir.tls.secret_name, key[0])))
    for key, hp in store.httpproxies.items():
        tls = hp.vhost.tls if hp.vhost is not None else None
        if tls is not None and tls.secret_name.strip():
            out.append(TLSUse(HTTPPROXY, key, (hp.fqdn.lower(),),
                              split_secret(tls.secret_name, key[0])))
    for key, ing in store.ingresses.items():
        for entry in ing.tls:
            out.append(TLSUse(INGRESS, key, tuple(sorted(h.lower() for h in entry.hosts)),
                              split_secret(entry.secret_name, key[0])))
    return sorted(out)


EFFECTS = {INGRESSROUTE: "the vhost is served over plain HTTP only",
           HTTPPROXY: "the HTTPProxy is invalid",
           INGRESS: "its TLS entry is skipped (no HTTPS for those hosts)"}


def permitted(inputs: Inputs, use: TLSUse) -> bool:
    return inputs.store.tls_secret(use.secret, use.key[0])[1]


def delegation_findings(inputs: Inputs, uses: list[TLSUse]) -> Iterator[Finding]:
    """CTR3004; and CTR1006 for an Ingress TLS secret that is no usable TLS secret (an
    Ingress has no status to say so; roots' statuses do)."""
    for use in uses:
        if not permitted(inputs, use):
            yield finding("CTR3004", use.kind, use.key, f"TLS secret {ref(use.secret)} is in "
                          f"another namespace and no TLSCertificateDelegation there lets "
                          f"{use.key[0]} use it: {EFFECTS[use.kind]}")
        elif use.kind == INGRESS and inputs.store.tls_secret(use.secret, use.key[0])[0] is None:
            problem = inputs.store.secret_problem(use.secret)
            yield finding("CTR1006", INGRESS, use.key, f"TLS secret {ref(use.secret)}: "
                          f"{problem}: no HTTPS for {', '.join(use.hosts)}")


def certificate_findings(inputs: Inputs, uses: list[TLSUse]) -> Iterator[Finding]:
    """CTR3005/CTR3006 once per Secret (naming its users), CTR3007 per use and host."""
    from kubectl_contour.queries.certs import load_pem

    users: dict[Key, list[TLSUse]] = {}
    for use in uses:
        users.setdefault(use.secret, []).append(use)
    for secret, found in sorted(users.items()):
        stored = inputs.store.tls_secret(secret, secret[0])[0]
        leaf = next(iter(load_pem(stored.cert)), None) if stored is not None else None
        if leaf is None:
            continue
        yield from expiry(inputs, secret, leaf, found)
        for use in found:
            yield from uncovered_hosts(inputs, use, leaf)


def uncovered_hosts(inputs: Inputs, use: TLSUse, leaf: Any) -> Iterator[Finding]:
    """CTR3007 for each host of a permitted use the certificate is not valid for (RFC 6125,
    queries/certs.py; a wildcard fqdn needs the same wildcard)."""
    from kubectl_contour.queries.certs import cert_info, host_match

    for host in use.hosts if permitted(inputs, use) else ():
        if not host_match(leaf, host):
            info = cert_info(leaf, now=inputs.now)
            names = ", ".join(info.sans) or f"none (subject {info.subject})"
            yield finding("CTR3007", use.kind, use.key, f"the certificate of Secret "
                          f"{ref(use.secret)} does not name {host} (names: {names}): "
                          "clients refuse it")


def expiry(inputs: Inputs, secret: Key, leaf: Any, uses: list[TLSUse]) -> Iterator[Finding]:
    after = leaf.not_valid_after_utc
    left, when = (after - inputs.now).days, after.date().isoformat()
    used = ", ".join(sorted({f"{u.kind} {ref(u.key)}" for u in uses}))
    if inputs.now >= after:
        yield finding("CTR3005", SECRET, secret, f"its certificate expired on {when} "
                      f"({-left} days ago); used by {used}")
    elif left < EXPIRY_WARNING_DAYS:
        yield finding("CTR3006", SECRET, secret, f"its certificate expires on {when}, in "
                      f"{left} days; used by {used}")
