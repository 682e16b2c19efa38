"""What the client-authentication end-to-end tests make themselves: a client CA with client
certificates and a CRL, RS256 JWTs and the JWKS server that serves their key, and an
HTTPS client that presents a client certificate (the harness client never does)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass(frozen=True)
class ClientCert:
    cn: str
    serial: int
    cert_pem: bytes
    key_pem: bytes


class ClientCA:
    """A CA issuing client-auth certificates, and CRLs revoking some of them."""

    def __init__(self, cn: str) -> None:
        now = dt.datetime.now(dt.UTC)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(self.key, hashes.SHA256()))
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str) -> ClientCert:
        now = dt.datetime.now(dt.UTC)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        serial = x509.random_serial_number()
        cert = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(self.key, hashes.SHA256()))
        return ClientCert(cn, serial, cert.public_bytes(serialization.Encoding.PEM),
                          _pem_key(key))

    def crl(self, *revoked: ClientCert) -> bytes:
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
                   .last_update(now - dt.timedelta(hours=1))
                   .next_update(now + dt.timedelta(days=7)))
        for c in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(c.serial)
                .revocation_date(now - dt.timedelta(minutes=5)).build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


class JWTIssuer:
    """An RS256 signing key with its JWK, and tokens signed by it."""

    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                          "n": b64url(n), "e": b64url(e)}]}

    def token(self, **claims: Any) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing = ".".join(b64url(json.dumps(p).encode()) for p in (header, claims))
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{b64url(signature)}"


class JWKSServer:
    """Serves `/jwks.json` on 127.0.0.1 (a thread); counts the fetches."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()
        hits = self.hits = [0]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                hits[0] += 1
                status = 200 if self.path == "/jwks.json" else 404
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body) if status == 200 else 0))
                self.end_headers()
                if status == 200:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def https_get(port: int, sni: str, path: str = "/", *, headers: dict[str, str] | None = None,
              cert: ClientCert | None = None, timeout: float = 5.0) -> Reply:
    """One HTTP/1.1 GET over TLS to 127.0.0.1:port (SNI and Host = `sni`), presenting
    `cert` when given; raises ssl.SSLError / OSError when the handshake or read fails."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if cert is not None:
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "c.pem").write_bytes(cert.cert_pem)
            (Path(d) / "k.pem").write_bytes(cert.key_pem)
            ctx.load_cert_chain(Path(d) / "c.pem", Path(d) / "k.pem")
    lines = [f"GET {path} HTTP/1.1", f"Host: {sni}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw, \
            ctx.wrap_socket(raw, server_hostname=sni) as tls:
        tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    pairs = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines)]
    return Reply(int(status_line.split(" ")[1]), pairs, body)
