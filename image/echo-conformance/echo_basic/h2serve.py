"""HTTP/2 on one connection (h2c with prior knowledge, or TLS with ALPN h2) with the `h2`
library: each finished request stream is answered in a thread of its own (a `?delay=` on one
stream must not hold the others), its reply sent as the flow-control windows allow.

In: the connected socket, its buffered reader (bytes already read stay there), the routes,
and the connection's TLS description (None for h2c). Out: nothing; returns when the client
closes or sends GOAWAY."""

from __future__ import annotations

import contextlib
import io
import socket
import threading

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .answers import Answer, Echo, Request, error, peer


class Connection:
    def __init__(self, sock: socket.socket, echo: Echo, tls: dict[str, object] | None) -> None:
        self.sock, self.echo, self.tls = sock, echo, tls
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.cond = threading.Condition()  # guards conn; notified when a window opens
        self.headers: dict[int, list[tuple[str, str]]] = {}
        self.closed = False
        try:
            self.client = peer(sock.getpeername())
        except OSError:  # the peer has gone already
            self.client = ""

    def flush(self) -> None:
        """Send what the connection has queued; the caller holds `cond`."""
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self, rfile: io.BufferedIOBase) -> None:
        with self.cond:
            self.conn.initiate_connection()
            self.flush()
        try:
            while not self.closed:
                data = rfile.read1(65536)
                if not data:
                    break
                with self.cond:
                    self.receive(data)
                    self.flush()
        except (OSError, h2.exceptions.ProtocolError):
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def receive(self, data: bytes) -> None:
        """Handle the events `data` makes; the caller holds `cond`."""
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                self.headers[event.stream_id] = list(event.headers)  # type: ignore[arg-type]
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                headers = self.headers.pop(event.stream_id, [])
                threading.Thread(target=self.answer, args=(event.stream_id, headers),
                                 daemon=True).start()
            elif isinstance(event, h2.events.StreamReset):
                self.headers.pop(event.stream_id, None)
            elif isinstance(event, h2.events.WindowUpdated):
                self.cond.notify_all()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closed = True

    def answer(self, stream_id: int, headers: list[tuple[str, str]]) -> None:
        pseudo = {k: v for k, v in headers if k.startswith(":")}
        regular = [(k, v) for k, v in headers if not k.startswith(":") and k != "host"]
        host = pseudo.get(":authority") or next((v for k, v in headers if k == "host"), "")
        request = Request(pseudo.get(":method", ""), pseudo.get(":path", ""), host,
                          "HTTP/2.0", regular, self.tls, self.client)
        reply = self.echo.answer(request)
        if reply.reset:  # HTTP/2 has no connection to hijack: the suite's server says so
            reply = error("response writer does not support hijacking", 500)
        # the stream or the connection may have gone away meanwhile
        with contextlib.suppress(OSError, h2.exceptions.ProtocolError):
            self.send(stream_id, reply)

    def send(self, stream_id: int, reply: Answer) -> None:
        head = [(":status", str(reply.status))]
        head += [(k.lower(), v) for k, v in reply.headers]
        head.append(("content-length", str(len(reply.body))))
        body = reply.body
        with self.cond:
            self.conn.send_headers(stream_id, head, end_stream=not body)
            while body and not self.closed:
                room = min(self.conn.local_flow_control_window(stream_id),
                           self.conn.max_outbound_frame_size, len(body))
                if room <= 0:
                    self.flush()
                    self.cond.wait(timeout=5)
                    continue
                self.conn.send_data(stream_id, body[:room], end_stream=room == len(body))
                body = body[room:]
            self.flush()


def serve(sock: socket.socket, rfile: io.BufferedIOBase, echo: Echo,
          tls: dict[str, object] | None) -> None:
    """Serve HTTP/2 on `sock` until it closes."""
    Connection(sock, echo, tls).run(rfile)
