"""The suite's TCP echo (`TCP_ECHO_SERVER` set), for TCPRoute and TLSRoute: on connect it
sends a welcome line, then answers line commands: `PING` -> `PONG`, `IS_TLS` -> `true` or
`false`, `TEST` -> one JSON line with the pod's context, the ports and (TLS) the
connection's version, server name and cipher. Plain on TCP_PORT (3000), TLS on TLS_PORT
(8443) when TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY name files."""

from __future__ import annotations

import json
import socketserver
import ssl
import threading

from . import tlsinfo

WELCOME = b"Gateway API Test TCP Server\n"


class TCPEcho(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, context: dict[str, str], tls: ssl.SSLContext | None) -> None:
        self.context, self.tls = context, tls
        super().__init__(("0.0.0.0", port), Lines)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away or failed its handshake


class Lines(socketserver.StreamRequestHandler):
    server: TCPEcho

    def setup(self) -> None:
        if self.server.tls is not None:
            self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self) -> None:
        tls = isinstance(self.request, ssl.SSLSocket)
        self.wfile.write(WELCOME)
        for raw in self.rfile:
            line = raw.rstrip(b"\r\n")
            if line == b"PING":
                self.wfile.write(b"PONG\n")
            elif line == b"IS_TLS":
                self.wfile.write(b"true\n" if tls else b"false\n")
            elif line == b"TEST":
                self.wfile.write(json.dumps(self.assertions(tls)).encode() + b"\n")

    def assertions(self, tls: bool) -> dict[str, object]:
        doc: dict[str, object] = {**self.server.context, "isTLS": tls}
        if tls:
            info = tlsinfo.assertions(self.request, with_peer=False)
            # the suite's TCP server names versions as Go's tls.VersionName does: "TLS 1.3"
            info["version"] = str(info.get("version", "")).replace("TLSv", "TLS ")
            doc["tls"] = info
        return doc


def serve(env: dict[str, str], context: dict[str, str]) -> list[TCPEcho]:
    """Start the plain (and, with certificates, the TLS) listeners in threads."""
    tcp_port, tls_port = env.get("TCP_PORT") or "3000", env.get("TLS_PORT") or "8443"
    ctx = {**context, "tcpport": tcp_port}
    cert, key = env.get("TLS_SERVER_CERT", ""), env.get("TLS_SERVER_PRIV_KEY", "")
    tls = tlsinfo.server_context(cert, key) if cert and key else None
    if tls is not None:
        ctx["tlsport"] = tls_port
    servers = [TCPEcho(int(tcp_port), ctx, None)]
    if tls is not None:
        servers.append(TCPEcho(int(tls_port), ctx, tls))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return servers
