"""gRPC extension servers of the tests' own, on loopback: an ext_authz server
(envoy.service.auth.v3) and a global rate limit server (envoy.service.ratelimit.v3).

Both record what Envoy asked, so a test can check the context and descriptors it sent.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent import futures
from typing import Any

import grpc
from envoy.config.core.v3.base_pb2 import HeaderValue, HeaderValueOption
from envoy.service.auth.v3 import external_auth_pb2 as authz
from envoy.service.auth.v3 import external_auth_pb2_grpc as authz_grpc
from envoy.service.ratelimit.v3 import rls_pb2 as rls
from envoy.service.ratelimit.v3 import rls_pb2_grpc as rls_grpc
from envoy.type.v3.http_status_pb2 import HttpStatus
from google.rpc import code_pb2, status_pb2

ALLOW_HEADER = "x-let-me-in"
"""Requests carrying this header with value `yes` are allowed; all others are denied."""
VERDICT_HEADER = "x-authz-verdict"


def _serve(add: Any, servicer: Any) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class AuthzServer(authz_grpc.AuthorizationServicer):
    """Allows a request with `x-let-me-in: yes` (adding a header upstream), denies the
    rest with 403 and a body; records each check's path and context extensions."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server, self.port = _serve(authz_grpc.add_AuthorizationServicer_to_server, self)

    def Check(self, request: authz.CheckRequest, context: Any) -> authz.CheckResponse:  # noqa: N802
        http = request.attributes.request.http
        with self._lock:
            self.checks.append((http.path, dict(request.attributes.context_extensions)))
        if http.headers.get(ALLOW_HEADER) == "yes":
            header = HeaderValueOption(header=HeaderValue(key=VERDICT_HEADER, value="allowed"))
            return authz.CheckResponse(status=status_pb2.Status(code=code_pb2.OK),
                                       ok_response=authz.OkHttpResponse(headers=[header]))
        return authz.CheckResponse(
            status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED),
            denied_response=authz.DeniedHttpResponse(status=HttpStatus(code=403),  # type: ignore[arg-type]
                                                     body="denied by the test"))

    def paths(self) -> list[str]:
        with self._lock:
            return [path for path, _ in self.checks]

    def stop(self) -> None:
        self.server.stop(0)


Descriptor = tuple[tuple[str, str], ...]


class RateLimitServer(rls_grpc.RateLimitServiceServicer):
    """Over the limit once a descriptor was seen more than `limit` times (per domain)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: Counter[tuple[str, Descriptor]] = Counter()
        self._lock = threading.Lock()
        self.server, self.port = _serve(rls_grpc.add_RateLimitServiceServicer_to_server, self)

    def ShouldRateLimit(self, request: rls.RateLimitRequest, context: Any  # noqa: N802
                        ) -> rls.RateLimitResponse:
        over = False
        with self._lock:
            for d in request.descriptors:
                key = (request.domain, tuple((e.key, e.value) for e in d.entries))
                self.seen[key] += 1
                over |= self.seen[key] > self.limit
        code = rls.RateLimitResponse.OVER_LIMIT if over else rls.RateLimitResponse.OK
        return rls.RateLimitResponse(overall_code=code)

    def descriptors(self) -> set[tuple[str, Descriptor]]:
        with self._lock:
            return set(self.seen)

    def stop(self) -> None:
        self.server.stop(0)
