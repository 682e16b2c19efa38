"""The metrics server (/healthz, /metrics) and the debug server (/debug/*).

Both run on threads of their own (`http.server`), so a slow scrape never delays a build.
Handlers only read immutable values the pipeline publishes (tuples, frozen dataclasses,
fresh dicts), which is safe under the GIL.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

Response = tuple[int, str, bytes]  # status, content type, body
Route = Callable[[], Response]


def text(body: str, status: int = 200, ctype: str = "text/plain; charset=utf-8") -> Response:
    return status, ctype, body.encode()


def as_json(value: Any, status: int = 200) -> Response:
    return status, "application/json", (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


@dataclass
class HttpServer:
    """A tiny routing HTTP server on a daemon thread."""

    name: str
    address: str
    port: int
    routes: dict[str, Route]
    _server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                route = routes.get(self.path.split("?", 1)[0])
                try:
                    status, ctype, body = route() if route else text("not found\n", 404)
                except Exception as err:  # noqa: BLE001 - a broken page is a 500, not a crash
                    log.exception("%s %s", self.command, self.path)
                    status, ctype, body = text(f"internal error: {err}\n", 500)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("%s: " + format, self.address_string(), *args)

        self._server = ThreadingHTTPServer((self.address, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True).start()
        self.port = self._server.server_address[1]
        log.info("%s listening on %s:%d", self.name, self.address, self.port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
