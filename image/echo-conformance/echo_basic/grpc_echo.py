"""The suite's gRPC echo service (`GRPC_ECHO_SERVER` set): `GrpcEcho.Echo` and `EchoTwo`
reply with what the server saw (the fully qualified method, the request metadata, the
:authority, the pod's context, and TLS facts on the TLS port); `EchoThree` is left
unimplemented, so it fails with UNIMPLEMENTED as the suite expects.

The messages are described here, in code, with the package, names and field numbers of the
suite's grpcecho.proto (tests/image/test_echo_conformance.py checks them against the .proto
in the pinned module): no generated stubs, hence no protoc at image-build time. Plaintext on
HTTP_PORT (3000), TLS on HTTPS_PORT (8443) when TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY
name files."""

from __future__ import annotations

import os
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "gateway_api_conformance.echo_basic.grpcecho"
SERVICE = f"{PACKAGE}.GrpcEcho"
STRING, MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_STRING, \
    descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
# message -> [(field, number, type or ".Message", repeated)], as in grpcecho.proto
MESSAGES: dict[str, list[tuple[str, int, int | str, bool]]] = {
    "Header": [("key", 1, STRING, False), ("value", 2, STRING, False)],
    "Context": [("namespace", 1, STRING, False), ("ingress", 2, STRING, False),
                ("service_name", 3, STRING, False), ("pod", 4, STRING, False)],
    "TLSAssertions": [("version", 1, STRING, False), ("negotiated_protocol", 2, STRING, False),
                      ("server_name", 3, STRING, False), ("cipher_suite", 4, STRING, False),
                      ("peer_certificates", 5, STRING, True)],
    "Assertions": [("fully_qualified_method", 1, STRING, False),
                   ("headers", 2, "Header", True), ("authority", 3, STRING, False),
                   ("context", 4, "Context", False), ("tls_assertions", 5, "TLSAssertions", False)],
    "EchoRequest": [],
    "EchoResponse": [("assertions", 1, "Assertions", False), ("request", 2, "EchoRequest", False)],
}
METHODS = ("Echo", "EchoTwo", "EchoThree")  # all EchoRequest -> EchoResponse


def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """grpcecho.proto as a FileDescriptorProto."""
    fd = descriptor_pb2.FileDescriptorProto(name="grpcecho.proto", package=PACKAGE,
                                            syntax="proto3")
    for name, fields in MESSAGES.items():
        msg = fd.message_type.add(name=name)
        for fname, number, ftype, repeated in fields:
            f = msg.field.add(name=fname, number=number, label=REPEATED if repeated else 1)
            if isinstance(ftype, str):
                f.type, f.type_name = MESSAGE, f".{PACKAGE}.{ftype}"
            else:
                f.type = ftype
    service = fd.service.add(name="GrpcEcho")
    for method in METHODS:
        service.method.add(name=method, input_type=f".{PACKAGE}.EchoRequest",
                           output_type=f".{PACKAGE}.EchoResponse")
    return fd


def message_classes() -> dict[str, Any]:
    """The message classes by short name (protobuf's API differs across the versions in
    use: GetMessageClass in newer ones, a factory's GetPrototype in Debian bookworm's)."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor())
    make = getattr(message_factory, "GetMessageClass", None) \
        or message_factory.MessageFactory(pool).GetPrototype
    return {name: make(pool.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in MESSAGES}


class EchoService:
    """The handlers; `context`: the pod's (namespace, ingress, service, pod)."""

    def __init__(self, context: dict[str, str], tls: bool) -> None:
        self.classes = message_classes()
        self.context, self.tls = context, tls

    def handler(self) -> grpc.GenericRpcHandler:
        request, response = self.classes["EchoRequest"], self.classes["EchoResponse"]
        handlers = {m: grpc.unary_unary_rpc_method_handler(
            self._echo(m), request_deserializer=request.FromString,
            response_serializer=response.SerializeToString) for m in METHODS[:2]}
        return grpc.method_handlers_generic_handler(SERVICE, handlers)

    def _echo(self, method: str) -> Any:
        def echo(_request: Any, ctx: grpc.ServicerContext) -> Any:
            peer = ctx.auth_context().get("x509_pem_cert", []) if self.tls else []
            return self.reply(method, list(ctx.invocation_metadata()), _authority(ctx),
                              [p.decode() for p in peer])
        return echo

    def reply(self, method: str, metadata: list[tuple[str, Any]], authority: str,
              peer: list[str] | None = None) -> Any:
        """The EchoResponse for `method` called with `metadata` (`peer`: the client's
        certificates in PEM). On TLS, grpcio tells neither the version nor the cipher."""
        c = self.classes
        headers = [c["Header"](key=k, value=v if isinstance(v, str) else v.decode("latin-1"))
                   for k, v in [(":authority", authority), *metadata] if k != ":authority" or v]
        assertions = c["Assertions"](fully_qualified_method=f"/{SERVICE}/{method}",
                                     headers=headers, authority=authority,
                                     context=c["Context"](
                                         namespace=self.context.get("namespace", ""),
                                         ingress=self.context.get("ingress", ""),
                                         service_name=self.context.get("service", ""),
                                         pod=self.context.get("pod", "")))
        if self.tls:
            assertions.tls_assertions.CopyFrom(c["TLSAssertions"](peer_certificates=peer or []))
        return c["EchoResponse"](assertions=assertions)


def _authority(ctx: grpc.ServicerContext) -> str:
    """The call's :authority. grpcio's public API does not expose it; its server context
    keeps it as the call details' `host` (bytes), read here when present."""
    details = getattr(getattr(ctx, "_rpc_event", None), "call_details", None)
    host = getattr(details, "host", b"") or b""
    return host.decode("latin-1") if isinstance(host, bytes) else str(host)


def serve(env: dict[str, str], context: dict[str, str]) -> list[tuple[grpc.Server, int]]:
    """Start the plaintext (and, with certificates, the TLS) servers; return them running,
    with their ports (keep them: a server that is collected stops)."""
    plain = _server(EchoService(context, tls=False))
    servers = [(plain, plain.add_insecure_port(f"0.0.0.0:{int(env.get('HTTP_PORT') or 3000)}"))]
    cert, key = env.get("TLS_SERVER_CERT", ""), env.get("TLS_SERVER_PRIV_KEY", "")
    if cert and key:
        creds = grpc.ssl_server_credentials([(_read(key), _read(cert))])
        secure = _server(EchoService(context, tls=True))
        port = secure.add_secure_port(f"0.0.0.0:{int(env.get('HTTPS_PORT') or 8443)}", creds)
        servers.append((secure, port))
    for server, _ in servers:
        server.start()
    return servers


def _server(service: EchoService) -> grpc.Server:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((service.handler(),))
    return server


def _read(path: str) -> bytes:
    with open(os.path.expanduser(path), "rb") as f:
        return f.read()
