"""`python3 -m echo_basic [-conf COREFILE]`: start the mode the environment asks for (the
suite's manifests set these variables) and run until TERM or INT."""

from __future__ import annotations

import os
import signal
import sys
import threading

from . import dns, grpc_echo, serve, tcp_echo, tlsinfo
from .answers import Echo


def context(env: dict[str, str]) -> dict[str, str]:
    """The pod's context every echo reports."""
    return {"namespace": env.get("NAMESPACE", ""), "ingress": env.get("INGRESS_NAME", ""),
            "service": env.get("SERVICE_NAME", ""), "pod": env.get("POD_NAME", "")}


def http_servers(env: dict[str, str]) -> list[serve.EchoServer]:
    """HTTP on HTTP_PORT, h2c on H2C_PORT, and HTTPS on HTTPS_PORT with certificates."""
    http_port = env.get("HTTP_PORT") or "3000"
    echo = Echo(context(env), http_port)
    servers = [serve.EchoServer(int(http_port), echo),
               serve.EchoServer(int(env.get("H2C_PORT") or 3001), echo, h2c=True)]
    cert, key = env.get("TLS_SERVER_CERT", ""), env.get("TLS_SERVER_PRIVKEY", "")
    if cert and key:
        tls = tlsinfo.server_context(cert, key, env.get("TLS_CLIENT_CACERTS", ""),
                                     alpn=("h2", "http/1.1"))
        servers.append(serve.EchoServer(int(env.get("HTTPS_PORT") or 8443), echo, tls=tls))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return servers


def main(argv: list[str]) -> None:
    env = dict(os.environ)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if len(argv) >= 2 and argv[0] == "-conf":
        threading.Thread(target=dns.serve, args=(argv[1],), daemon=True).start()
        running: list[object] = []
    elif env.get("GRPC_ECHO_SERVER"):
        running = list(grpc_echo.serve(env, context(env)))
    elif env.get("TCP_ECHO_SERVER"):
        running = list(tcp_echo.serve(env, context(env)))
    else:
        running = list(http_servers(env))
    print(f"echo_basic: serving ({len(running)} listeners)", flush=True)
    stop.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
