"""Many light xDS clients in one process, for `bench.bench fanout` (bench/fanout.py).

    python -m bench.adsfan --port XDS_PORT --clients 500 --name fan-0

Each client is one gRPC channel (its own TCP connection) with one delta ADS stream, and
asks and ACKs in Envoy's order: CDS (wildcard, the node on the first request); on a
cluster response, EDS by the names of those clusters, and the CDS ACK once the endpoints
arrived (Envoy ACKs clusters when they are warm); then LDS (wildcard) and RDS by name, the
LDS ACK after the routes (listeners warm on their route tables). With `--scoped` (a
controller on `--route-layout scoped`) it asks as an Envoy on the scoped HTTP listener:
after LDS, scoped RDS by wildcard and RDS for `ingress_https` only, the LDS ACK once both
came; the watched marker is then looked for in the scopes. A reconnecting client sends
every subscription again with `initial_resource_versions` (what it holds), as Envoy does.

What makes 500 of them cheap in one process: responses are read as bytes, and only their
head (version, type, nonce) is decoded per client (`Head`). Everything that depends on the
content (the names and versions held, the EDS names of the clusters, the encoded requests)
is derived once per process per type version (`Shared`): the server's delta responses give
every client in the same state the same content.

Control, one command per stdin line; one JSON line per report on stdout:
- `connect`: open every client → `{"event": "served", "times": [...]}` once all are served
  (all four types answered and ACKed); times are `time.monotonic()` (system-wide clock);
- `watch MARKER`: → `{"event": "armed"}` at once, then `{"event": "seen", "marker": ...,
  "times": [...]}` once every client has received a route response containing MARKER and
  ACKed it;
- `reconnect`: every client drops its channel and opens a new one at once → `served`;
- `quit`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from controller.envoy import pb
from controller.envoy.type_urls import SCOPED_ROUTE_TYPE
from controller.xdscache.routes import HTTP_ROUTES, HTTPS_ROUTES

CDS, EDS, LDS, RDS = pb.CLUSTER_TYPE, pb.ENDPOINT_TYPE, pb.LISTENER_TYPE, pb.ROUTE_TYPE
SRDS = SCOPED_ROUTE_TYPE
ORDER = (CDS, EDS, LDS, SRDS, RDS)


@dataclass(frozen=True)
class Layout:
    """What a client asks after LDS, by the controller's route layout."""

    types: tuple[str, ...]  # every type it holds, in ORDER
    route_names: tuple[str, ...]  # the RDS tables its listeners name
    watched: str  # the type whose responses carry a route change

    @property
    def after_listeners(self) -> tuple[str, ...]:
        return tuple(t for t in self.types if t in (SRDS, RDS))


SINGLE = Layout((CDS, EDS, LDS, RDS), (HTTP_ROUTES, HTTPS_ROUTES), RDS)
SCOPED = Layout((CDS, EDS, LDS, SRDS, RDS), (HTTPS_ROUTES,), SRDS)
METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
OPTIONS = [("grpc.max_receive_message_length", 1 << 30),
           # a channel of its own per client: no subchannel (TCP connection) shared
           ("grpc.use_local_subchannel_pool", 1)]


def head_class() -> Any:
    """A message with only DeltaDiscoveryResponse's fields 1, 4 and 5: decoding it skips
    the resources (kept as unknown bytes by upb, a copy, not a parse)."""
    f = descriptor_pb2.FileDescriptorProto(name="bench_adsfan_head.proto", package="adsfan",
                                           syntax="proto3")
    msg = f.message_type.add(name="Head")
    fd = descriptor_pb2.FieldDescriptorProto
    for number, name in ((1, "system_version_info"), (4, "type_url"), (5, "nonce")):
        msg.field.add(name=name, number=number, type=fd.TYPE_STRING, label=fd.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("adsfan.Head"))


Head = head_class()


def request(type_url: str, *, subscribe: Any = (), nonce: str = "",
            versions: dict[str, str] | None = None) -> bytes:
    return discovery_pb2.DeltaDiscoveryRequest(
        type_url=type_url, resource_names_subscribe=list(subscribe), response_nonce=nonce,
        initial_resource_versions=versions or {}).SerializeToString()


class Shared:
    """What every client of this process derives alike, computed once per type version."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], dict[str, str]] = {(t, ""): {} for t in ORDER}
        self.eds: dict[str, tuple[str, ...]] = {"": ()}  # CDS version -> EDS names

    def advance(self, type_url: str, before: str, after: str, payload: bytes) -> None:
        """Record the content at `after`: what was held at `before` plus this response."""
        if (type_url, after) in self.held:
            return
        full = discovery_pb2.DeltaDiscoveryResponse.FromString(payload)
        held = dict(self.held.get((type_url, before), {}))
        for r in full.resources:
            held[r.name] = r.version
        for name in full.removed_resources:
            held.pop(name, None)
        self.held[(type_url, after)] = held
        if type_url == CDS:
            self.eds[after] = self._eds_names(before, full)

    def _eds_names(self, before: str, full: Any) -> tuple[str, ...]:
        names = dict.fromkeys(self.eds.get(before, ()))
        for r in full.resources:
            c = cluster_pb2.Cluster.FromString(r.resource.value)
            if c.type == cluster_pb2.Cluster.EDS:
                names[c.eds_cluster_config.service_name or c.name] = None
        return tuple(sorted(names))


@dataclass
class Stream:
    """One stream's progress: types asked and answered, ACKs held back (type -> nonce)."""

    asked: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    pending: dict[str, str] = field(default_factory=dict)
    last_type: str = ""


class Client:
    """One Envoy-like delta ADS client; `served` is set once every type is ACKed."""

    def __init__(self, shared: Shared, port: int, node: str, layout: Layout = SINGLE) -> None:
        self.shared, self.port, self.node, self.layout = shared, port, node, layout
        self.version = dict.fromkeys(ORDER, "")  # the type version held
        self.served_at = 0.0
        self.watch = b""
        self.seen_at = 0.0
        self.task: asyncio.Task[None] | None = None

    def first_requests(self) -> list[tuple[str, bytes]]:
        """A fresh client asks for clusters only; a reconnecting one asks again for all it
        holds, with the versions it holds (the node rides on the first request)."""
        node = discovery_pb2.DeltaDiscoveryRequest(node=base_pb2.Node(
            id=self.node, cluster="fanout")).SerializeToString()
        if not self.version[CDS]:
            return [(CDS, node + request(CDS))]
        held = {t: self.shared.held[(t, self.version[t])] for t in self.layout.types}
        return [(CDS, node + request(CDS, versions=held[CDS])),
                (EDS, request(EDS, subscribe=self.shared.eds[self.version[CDS]],
                              versions=held[EDS])),
                (LDS, request(LDS, versions=held[LDS])),
                *((t, request(t, subscribe=self._names(t), versions=held[t]))
                  for t in self.layout.after_listeners)]

    def _names(self, type_url: str) -> tuple[str, ...]:
        """RDS by name; scoped RDS by wildcard (no names)."""
        return self.layout.route_names if type_url == RDS else ()

    async def run(self) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}", options=OPTIONS) as ch:
            call = ch.stream_stream(METHOD)()
            stream = Stream()
            for t, body in self.first_requests():
                stream.asked.add(t)
                await call.write(body)
            while (payload := await call.read()) is not grpc.aio.EOF:
                for t, body in self.on_response(payload, stream):
                    stream.asked.add(t)
                    await call.write(body)
                self.note(payload, stream)

    def on_response(self, payload: bytes, s: Stream) -> list[tuple[str, bytes]]:
        """The requests (subscriptions and ACKs) a response calls for, in Envoy's order."""
        head = Head.FromString(payload)
        t, v = head.type_url, head.system_version_info
        self.shared.advance(t, self.version[t], v, payload)
        eds_before = self.shared.eds.get(self.version[CDS], ())
        self.version[t], s.last_type = v, t
        s.answered.add(t)
        out, ack = [], True
        if t == CDS and self.shared.eds[v] != eds_before:
            new = sorted(set(self.shared.eds[v]) - set(eds_before))
            out.append((EDS, request(EDS, subscribe=new)))
            s.pending[CDS], ack = head.nonce, False  # ACKed once the endpoints came (warm)
        elif t == LDS and RDS not in s.asked:
            out += [(r, request(r, subscribe=self._names(r))) for r in self.layout.after_listeners]
            s.pending[LDS], ack = head.nonce, False  # ACKed once its routes came
        if ack:
            out.append((t, request(t, nonce=head.nonce)))
        held_back = CDS if t == EDS else LDS if t in (SRDS, RDS) else None
        routes_in = all(r in s.answered for r in self.layout.after_listeners)
        if held_back in s.pending and (held_back == CDS or routes_in):
            out.append((held_back, request(held_back, nonce=s.pending.pop(held_back))))
        if t == EDS and LDS not in s.asked:
            out.append((LDS, request(LDS)))
        return out

    def note(self, payload: bytes, s: Stream) -> None:
        """After the response's requests were written: served (every type answered and
        nothing held back), or the watched marker seen in a route table."""
        now = time.monotonic()
        if not self.served_at and len(s.answered) == len(self.layout.types) and not s.pending:
            self.served_at = now
        if (s.last_type == self.layout.watched and self.watch and not self.seen_at
                and self.watch in payload):
            self.seen_at = now

    def start(self) -> None:
        self.served_at = 0.0
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def until(check: Any, clients: list[Client], timeout: float = 600.0) -> None:
    """Wait until check(client) holds for every client; a client that died is an error."""
    deadline = time.monotonic() + timeout
    while not all(check(c) for c in clients):
        for c in clients:
            if c.task is not None and c.task.done() and not check(c):
                raise RuntimeError(f"{c.node}: stream ended: {c.task.exception()!r}")
        if time.monotonic() > deadline:
            raise TimeoutError("clients not done")
        await asyncio.sleep(0.005)


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def main_async(port: int, count: int, name: str, layout: Layout = SINGLE) -> None:
    shared = Shared()
    clients = [Client(shared, port, f"{name}-{i}", layout) for i in range(count)]
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        cmd, args = line[0], line[1:]
        if cmd in ("connect", "reconnect"):
            for c in clients:
                await c.stop()
            for c in clients:
                c.start()
            await until(lambda c: c.served_at > 0, clients)
            emit({"event": "served", "times": [c.served_at for c in clients]})
        elif cmd == "watch":
            for c in clients:
                c.watch, c.seen_at = args[0].encode(), 0.0
            emit({"event": "armed", "marker": args[0]})
            await until(lambda c: c.seen_at > 0, clients)
            emit({"event": "seen", "marker": args[0], "times": [c.seen_at for c in clients]})
        elif cmd == "quit":
            break
    for c in clients:
        await c.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--name", default="fan")
    parser.add_argument("--scoped", action="store_true",
                        help="ask as an Envoy on the scoped HTTP listener (--route-layout scoped)")
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.port, args.clients, args.name,
                           SCOPED if args.scoped else SINGLE))


if __name__ == "__main__":
    main()
