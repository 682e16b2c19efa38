"""gRPC TLS: the server requires and verifies client certificates (spec §4.2, §4.3)."""

from __future__ import annotations

import asyncio
import datetime

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from xds_testkit import small_snapshot

from controller.xds.client import client_credentials, decode, watch
from controller.xds.registry import NodeRegistry
from controller.xds.server import serve
from controller.xdscache.snapshot import SnapshotCache

Pem = tuple[bytes, bytes]  # cert, key


def _issue(name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
    )
    if issuer:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return cert, key


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.fixture(scope="module")
def pki() -> dict[str, Pem]:
    ca = _issue("test-ca", None)
    return {"ca": _pem(*ca), "contour": _pem(*_issue("contour", ca)),
            "envoy": _pem(*_issue("envoy", ca))}


async def test_mutual_tls(pki: dict[str, Pem]) -> None:
    cache = SnapshotCache()
    cache.publish(small_snapshot())
    cache.mark_ready()
    ca = pki["ca"][0]
    server, port = await serve(cache, NodeRegistry(), "127.0.0.1", 0,
                               tls=(ca, *pki["contour"]))
    try:
        creds = client_credentials(ca, *pki["envoy"])
        stream = watch(f"127.0.0.1:{port}", "cds", credentials=creds)
        response = await asyncio.wait_for(anext(stream), 5)
        assert [m.name for m in decode(response)] == ["default/a/80"]
        await stream.aclose()
        without_client_cert = grpc.ssl_channel_credentials(root_certificates=ca)
        anonymous = watch(f"127.0.0.1:{port}", "cds", credentials=without_client_cert)
        with pytest.raises(grpc.aio.AioRpcError):
            await asyncio.wait_for(anext(anonymous), 5)
    finally:
        await server.stop(0)
