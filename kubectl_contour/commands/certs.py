"""`certs HOST [--address HOST:PORT]`: the certificate served for one SNI, and the secret and
delegation it comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrl,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS
from kubectl_contour.flags import Output

if TYPE_CHECKING:
    from kubectl_contour.queries.certs import CertReport, Served

HELP = """Show the certificate served for HOST (the SNI): its chain (subject, issuer), SANs,
not-after and days left, whether it is valid for HOST (RFC 6125: a `*` is the whole left-most
label and covers one label), and where it comes from: the Kubernetes secret of the secure
virtual host the builder makes for HOST, the objects claiming the name, and the
TLSCertificateDelegation granting a secret of another namespace. With --address HOST:PORT the
chain is read by a TLS handshake with that SNI (nothing is verified); else from each Envoy's
admin /config_dump: the filter chain its listeners pick for the SNI and the SDS secret it
names (--admin-url, or a port-forward to the Envoy pods); offline (--from-dir) with neither,
from the secret itself. Exits 1 unless every chain read is current and valid for HOST."""


def register(app: typer.Typer) -> None:
    @app.command("certs", help=HELP, short_help=COMMANDS["certs"])
    def certs(
        ctx: typer.Context,
        host: Annotated[str, typer.Argument(metavar="HOST", help="e.g. www.example.com")],
        address: Annotated[str, typer.Option(
            help="Handshake with this server (e.g. an Envoy's :443) instead of asking Envoy's "
                 "admin.", metavar="HOST:PORT")] = "",
        admin_url: AdminUrl = "",
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
        output: Output = "",
    ) -> None:
        session = session_of(ctx)
        session.output = output
        report = collect(session, host=host, address=address, admin_url=admin_url,
                         namespace=envoy_namespace, selector=selector)
        emit(session, report, lambda rich: view(report, rich=rich))
        failed = [s for s in report.served if not s.ok]
        if failed or not report.served:
            from kubectl_contour.errors import CheckFailed

            raise CheckFailed(failure(report.host, failed[0] if failed else None))


def collect(session: Any, *, host: str, address: str, admin_url: str, namespace: str,
            selector: str) -> CertReport:
    from kubectl_contour.queries.certs import CertReport, leaf_fingerprint
    from kubectl_contour.queries.route import find_vhost, parse_target
    from kubectl_contour.queries.tls_source import tls_source

    host = parse_target(host)[0].rstrip(".")
    snapshot = session.snapshot()
    dag = session.build(snapshot)
    source = tls_source(snapshot, dag, host)
    vhost = find_vhost(dag.https, host)
    pem = vhost.secret.cert if vhost is not None and vhost.secret is not None else b""
    leaf = leaf_fingerprint(pem)
    if address:
        chains = [handshake(address, host, leaf)]
    elif admin_url or not session.offline:
        chains = from_envoys(session, host, leaf, admin_url=admin_url, namespace=namespace,
                             selector=selector)
    else:
        chains = [from_secret(source.secret, pem, host)] if pem else []
    return CertReport(host, source, tuple(chains))


def handshake(address: str, host: str, leaf: str) -> Served:
    from kubectl_contour.queries.certs import load_der, served
    from kubectl_contour.tls import peer_chain

    return served(f"{address} (TLS handshake)", load_der(peer_chain(address, host)), host,
                  secret_leaf=leaf)


def from_envoys(session: Any, host: str, leaf: str, *, admin_url: str, namespace: str,
                selector: str) -> list[Served]:
    """One chain per Envoy: the SDS secret its filter chain for the SNI names, as it holds
    it (the private key is never read)."""
    from kubectl_contour.admin import get_json
    from kubectl_contour.commands.envoy_flags import envoy_fetchers
    from kubectl_contour.queries.certs import Served, load_pem, served
    from kubectl_contour.queries.tls_source import secret_chain, sni_secret

    out = []
    for fetcher in sorted(envoy_fetchers(session, admin_url=admin_url, namespace=namespace,
                                         selector=selector), key=lambda f: f.name):
        source = f"Envoy {fetcher.name} (admin)"
        name = sni_secret(get_json(fetcher, "/config_dump?resource=dynamic_listeners"), host)
        if not name:
            out.append(Served(source, (), False, "", False,
                              note=f"no TLS filter chain for SNI {host}"))
            continue
        pem = secret_chain(get_json(fetcher, "/config_dump?resource=dynamic_active_secrets"),
                           name)
        out.append(served(source, load_pem(pem), host, secret_leaf=leaf, envoy_secret=name)
                   if pem else Served(source, (), False, "", False, envoy_secret=name,
                                      note=f"Envoy does not hold the secret {name}"))
    return out


def from_secret(secret: str, pem: bytes, host: str) -> Served:
    from kubectl_contour.queries.certs import load_pem, served

    return served(f"secret {secret} (what Envoy is given; no Envoy asked)", load_pem(pem), host)


def failure(host: str, bad: Served | None) -> str:
    if bad is None:
        return f"no certificate is served for {host}"
    if not bad.chain:
        return f"{bad.source}: {bad.note or 'no certificate'}"
    if not bad.matches_host:
        return f"{bad.source}: the certificate is not valid for {host}"
    return f"{bad.source}: the certificate is not current (not after {bad.chain[0].not_after})"


def view(report: CertReport, *, rich: bool) -> Any:
    from kubectl_contour.render.text import Node, sections, tree

    k = report.kubernetes
    facts = [("virtual host", k.vhost or "-"), ("secret", k.secret or "-"),
             ("claimed by", ", ".join(k.roots) or "-"),
             ("delegation", ", ".join(k.delegations) or ("-" if not k.secret else
                                                         "none needed (same namespace)"))]
    children = [Node([(f"{name}: ", "dim"), (value, "")]) for name, value in facts]
    if k.note:
        children.append(Node([(f"note: {k.note}", "yellow")]))
    parts: list[Any] = [tree([Node([(report.host, "bold")], children)], rich=rich)]
    parts += [chain_view(s, report.host, rich=rich) for s in report.served]
    return sections(parts, rich=rich)


def chain_view(s: Served, host: str, *, rich: bool) -> Any:
    from kubectl_contour.render.text import table

    if not s.chain:
        return f"{s.source}: {s.note or 'no certificate'}"
    verdict = (f"valid for {host} (matches {s.matched_name})" if s.matches_host
               else f"NOT valid for {host}") + ("" if s.current else ", NOT current")
    same = {True: "; the secret's certificate", False: "; NOT the secret's certificate",
            None: ""}[s.same_as_secret]
    extra = f" (Envoy secret {s.envoy_secret})" if s.envoy_secret else ""
    return table(["#", "subject", "issuer", "sans", "not after", "days left"],
                 [[i, c.subject, c.issuer, ", ".join(c.sans) or "-", c.not_after,
                   c.expires_in_days] for i, c in enumerate(s.chain)],
                 rich=rich, title=f"{s.source}{extra} → {verdict}{same}:")
