"""A small HTTP echo backend for the node tests: every request is answered 200 with one
line, `<pod> <method> <host><path>`, so a test sees which pod served it. The pod's name
comes from POD_NAME (else HOSTNAME); the port from the first argument (default 8080).
Standard library only; HTTP/1.1 with keep-alive, as Envoy talks to it; TERM stops it."""

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("POD_NAME") or os.environ.get("HOSTNAME", "echo")


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self) -> None:
        body = f"{NAME} {self.command} {self.headers.get('Host', '')}{self.path}\n".encode()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Echo-Pod", NAME)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # quiet: the tests count requests, not log lines


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    server = ThreadingHTTPServer(("0.0.0.0", port), Echo)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
