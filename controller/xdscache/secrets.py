"""SDS: the certificates of surviving secure vhosts, sorted by name (spec §3.3). CA secrets
are inlined into clusters and never served here."""

from __future__ import annotations

from controller.dag import model
from controller.envoy import pb
from controller.envoy.names import secret_name
from controller.envoy.secret import tls_secret
from controller.xdscache.listeners import fallback_secret


def used_secrets(dag: model.DAG) -> dict[str, model.Secret]:
    """Secrets of secure vhosts (HTTP or TCP-proxy termination) and the fallback
    certificate when a vhost uses it, by SDS name, sorted."""
    found = {secret_name(s.secret): s.secret for s in dag.https if s.secret is not None}
    fallback = fallback_secret(dag)
    if fallback is not None:
        found.setdefault(secret_name(fallback), fallback)
    return dict(sorted(found.items()))


def secrets(dag: model.DAG) -> dict[str, pb.Secret]:
    return {name: tls_secret(s) for name, s in used_secrets(dag).items()}
