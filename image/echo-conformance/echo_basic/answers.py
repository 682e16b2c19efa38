"""What the echo backend answers to one HTTP request, whatever carried it (HTTP/1.1, h2c or
HTTPS): the suite's `echo-basic` routes and their replies. Pure but for the retry counters
and the `?delay=` sleeps; serve.py turns a `Request` into bytes and an `Answer` back.

Routes (as the suite's server mounts them): `/health` (200 `OK`), `/status/NNN` (that code),
`/retry/?uuid=&succeedAfter=[&responseCode=][&delayRetry=]` (fail until the N-th attempt),
`/ws` (a WebSocket echo: ws.py, reached before this module), everything else: the echo, a
JSON object with the request's path, host, method, proto and headers (Go's canonical names,
as the suite's server writes them) and the pod's context.
`X-Echo-Set-Header: name:value,...` asks the echo to add those response headers."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
STATUS = re.compile(r"^/status/(\d\d\d)$")


@dataclass(frozen=True)
class Request:
    """One request as the server saw it. `target`: the request-target as sent (the
    echo's `path`); `headers`: every header but Host (HTTP/2: no pseudo-headers), in order."""

    method: str
    target: str
    host: str
    proto: str
    headers: list[tuple[str, str]]
    tls: dict[str, object] | None = None
    client: str = ""
    """The peer, `ip:port` (the echo's log line names it, as the suite's server's does)."""


@dataclass(frozen=True)
class Answer:
    """The reply; `reset`: abort the connection with a TCP RST instead of answering."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reset: bool = False


def peer(address: object) -> str:
    """`ip:port` of a socket address (IPv6 in brackets, as Go writes RemoteAddr)."""
    if not isinstance(address, tuple) or len(address) < 2:
        return str(address)
    host = str(address[0])
    return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"


def canonical_name(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: `x-foo-bar` -> `X-Foo-Bar`; names with a byte outside
    the token set are left as they are."""
    if not name or not set(name) <= TOKEN:
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration (`1.5s`, `500ms`, `1m30s`) in seconds; ValueError if bad."""
    sign, rest = (-1.0, text[1:]) if text[:1] == "-" else (1.0, text.lstrip("+"))
    if rest == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in DURATION.finditer(rest):
        if m.start() != pos:
            break
        total += float(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    if not rest or pos != len(rest):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


def error(message: str, status: int) -> Answer:
    """The server's error reply: `{"message": ...}` as JSON."""
    return Answer(status, _json_headers(), json.dumps({"message": message}).encode())


def _json_headers() -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]


def set_headers(request: Request) -> list[tuple[str, str]]:
    """The response headers `X-Echo-Set-Header` asks for: `name:value` pairs split on
    commas; a name asked twice gets its values joined with a comma (as the suite's server)."""
    merged: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() != "x-echo-set-header":
            continue
        for pair in value.split(","):
            key, _, val = pair.strip().partition(":")
            if key:
                merged.setdefault(key, []).append(val.strip())
    return [(key, ",".join(vals)) for key, vals in merged.items()]


class Echo:
    """The routes, for one server process. `context`: namespace, ingress, service, pod (from
    NAMESPACE, INGRESS_NAME, SERVICE_NAME, POD_NAME); `http_port` is echoed as `httpPort`."""

    def __init__(self, context: dict[str, str], http_port: str) -> None:
        self.context = context
        self.http_port = http_port
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def answer(self, request: Request) -> Answer:
        """Route `request` (path with `//` folded, as the suite's server does) to its reply."""
        path = urlsplit(request.target).path.replace("//", "/")
        if path == "/health":
            return Answer(200, [("Content-Type", "text/plain; charset=utf-8")], b"OK")
        if path.startswith("/status/"):
            return self.status(request)
        if path.startswith("/retry/"):
            return self.retry(request)
        return self.echo(request)

    def status(self, request: Request) -> Answer:
        match = STATUS.match(request.target)
        code = int(match.group(1)) if match else 400
        return Answer(code if 100 <= code <= 999 else 400)

    def retry(self, request: Request) -> Answer:
        """Fail (RST, or `responseCode`) until `succeedAfter` attempts of `uuid`, then echo."""
        query = _query(request)
        uuid = query.get("uuid", "")
        if not uuid:
            return Answer(400, body=b"uuid is required")
        try:
            succeed_after = int(query.get("succeedAfter", ""))
        except ValueError:
            return Answer(400, body=b"succeedAfter is required")
        with self._lock:
            failing = self._attempts.get(uuid, 0) < succeed_after
            if failing:
                self._attempts[uuid] = self._attempts.get(uuid, 0) + 1
        if not failing:
            return self.echo(request)
        problem = _sleep(query.get("delayRetry", ""))
        if problem:
            return problem
        code = query.get("responseCode", "")
        return Answer(int(code)) if code.lstrip("-").isdigit() else Answer(0, reset=True)

    def echo(self, request: Request) -> Answer:
        """The echo: `?delay=` first, then the request described as JSON. Each is logged
        first, in the suite's server's words: the suite's mirror tests look for
        `Echoing back request made to PATH to client` in the mirrored backend's pod log."""
        print(f"Echoing back request made to {request.target} to client ({request.client})",
              flush=True)
        problem = _sleep(_query(request).get("delay", ""))
        if problem:
            return problem
        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(canonical_name(name), []).append(value)
        doc: dict[str, object] = {
            "path": request.target, "host": request.host, "method": request.method,
            "proto": request.proto, "headers": dict(sorted(headers.items())),
            "httpPort": self.http_port, **self.context,
        }
        if request.tls is not None:
            doc["tls"] = request.tls
        body = json.dumps(doc, indent=1, ensure_ascii=False).encode()
        return Answer(200, set_headers(request) + _json_headers(), body)


def _query(request: Request) -> dict[str, str]:
    """The first value of each query parameter (Go's FormValue on a GET)."""
    parsed = parse_qs(urlsplit(request.target).query, keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _sleep(text: str) -> Answer | None:
    """Sleep for a Go duration; an error reply (500) if it does not parse."""
    if not text:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        return error(str(exc), 500)
    time.sleep(max(seconds, 0.0))
    return None
