"""Secret constructors: tls_secret() (spec §3.3)."""

from __future__ import annotations

from controller.dag import model
from controller.envoy import pb
from controller.envoy.names import secret_name


def tls_secret(secret: model.Secret) -> pb.Secret:
    """An SDS TLS certificate with the PEM chain and key inlined."""
    return pb.Secret(
        name=secret_name(secret),
        tls_certificate=pb.TlsCertificate(
            certificate_chain=pb.DataSource(inline_bytes=secret.cert),
            private_key=pb.DataSource(inline_bytes=secret.key),
        ),
    )
