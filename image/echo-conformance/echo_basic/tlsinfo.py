"""TLS for the echo servers: a server context from the suite's certificate files, the
server name the client sent (SNI), and the connection described as the suite's server does
(`version`, `serverName`, `negotiatedProtocol`, `cipherSuite`, `peerCertificates` in PEM).

Cipher names: OpenSSL's TLS 1.3 names are already the IANA ones the suite's (Go) server
reports; TLS 1.2 ECDHE names are rewritten to IANA form (`ECDHE-RSA-AES128-GCM-SHA256` ->
`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`). Only the leaf of the peer's chain is reported:
Python 3.11 exposes no more."""

from __future__ import annotations

import re
import ssl

SNI_ATTRIBUTE = "echo_server_name"
ECDHE = re.compile(r"^ECDHE-(RSA|ECDSA)-(AES128|AES256|CHACHA20)-(GCM-SHA256|GCM-SHA384|POLY1305)$")


def server_context(cert: str, key: str, client_ca: str = "",
                   alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A server context; with `client_ca`, a client certificate is verified if one is given
    (Go's VerifyClientCertIfGiven); `alpn`: the protocols offered, in preference order."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    ctx.sni_callback = _remember_server_name
    return ctx


def _remember_server_name(sock: object, name: str | None, _ctx: ssl.SSLContext) -> None:
    setattr(sock, SNI_ATTRIBUTE, name or "")


def cipher_name(openssl_name: str) -> str:
    """The IANA name Go reports for a cipher OpenSSL names `openssl_name`."""
    m = ECDHE.match(openssl_name)
    if not m:
        return openssl_name
    auth, cipher, mode = m.groups()
    bulk = {"AES128": "AES_128", "AES256": "AES_256", "CHACHA20": "CHACHA20"}[cipher]
    tail = {"GCM-SHA256": "GCM_SHA256", "GCM-SHA384": "GCM_SHA384",
            "POLY1305": "POLY1305_SHA256"}[mode]
    return f"TLS_ECDHE_{auth}_WITH_{bulk}_{tail}"


def assertions(sock: ssl.SSLSocket, with_peer: bool = True) -> dict[str, object]:
    """The `tls` object of an echo reply for an established connection."""
    cipher = sock.cipher()
    doc: dict[str, object] = {
        "version": sock.version() or "",
        "serverName": getattr(sock, SNI_ATTRIBUTE, ""),
        "negotiatedProtocol": sock.selected_alpn_protocol() or "",
        "cipherSuite": cipher_name(cipher[0]) if cipher else "",
    }
    peer = sock.getpeercert(binary_form=True) if with_peer else None
    if peer:
        doc["peerCertificates"] = [ssl.DER_cert_to_PEM_cert(peer)]
    return {k: v for k, v in doc.items() if v != "" or k in ("version", "serverName",
                                                                 "cipherSuite")}
