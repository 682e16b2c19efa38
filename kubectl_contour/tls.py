"""A TLS handshake with one SNI, to read the certificate chain a server presents (`certs
--address`). Nothing is verified: the point is to see what is served, even a wrong or
expired certificate."""

from __future__ import annotations

import socket
import ssl

from kubectl_contour.errors import CheckFailed, Unreachable, UsageError

HANDSHAKE_TIMEOUT = 10.0


def split_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` → (host, port); a usage error otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--address {text!r}: expected HOST:PORT")
    return host, int(port)


def peer_chain(address: str, sni: str, *, timeout: float = HANDSHAKE_TIMEOUT) -> list[bytes]:
    """The DER certificates the server at `address` presents for `sni`, leaf first.
    Unreachable when no TCP connection can be made; CheckFailed when the TLS handshake fails
    (e.g. Envoy has no filter chain for this SNI)."""
    host, port = split_address(address)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise Unreachable(f"cannot connect to {address}: {exc.strerror or exc}") from exc
    with raw:
        try:
            with context.wrap_socket(raw, server_hostname=sni) as tls:
                return chain_of(tls)
        except (ssl.SSLError, OSError) as exc:
            raise CheckFailed(f"TLS handshake with {address} for SNI {sni} failed: "
                              f"{getattr(exc, 'reason', None) or exc}",
                              hint="the server has no certificate for this name") from exc


def chain_of(tls: ssl.SSLSocket) -> list[bytes]:
    """The unverified peer chain: public from Python 3.13, the `_ssl` object's method before
    (3.10+); the leaf alone when neither is there."""
    public = getattr(tls, "get_unverified_chain", None)
    if public is not None:
        return [bytes(c) for c in public()]
    inner = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if inner is not None:
        import _ssl

        return [bytes(c.public_bytes(_ssl.ENCODING_DER)) for c in inner() or []]
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []
