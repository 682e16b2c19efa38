"""Delta (incremental) streams: send only new or changed resources and removed names."""

from __future__ import annotations

from typing import Any

from controller.xds import shared, wire
from controller.xds.stream import Outgoing, TypeState, XdsStream
from controller.xdscache.snapshot import TypeSnapshot


class DeltaStream(XdsStream):
    kind = "delta"

    def on_request(self, type_url: str, state: TypeState, request: Any) -> None:
        if not state.sub.started:
            # A reconnecting client tells us what it already has; only the
            # difference is sent.
            state.known.update(request.initial_resource_versions)
        dropped = state.sub.change(
            request.resource_names_subscribe, request.resource_names_unsubscribe
        )
        for name in dropped:
            state.known.pop(name)  # the client forgets these itself

    def acked_version(self, state: TypeState, request: Any) -> str:
        # Delta requests carry no version: the ACKed one is the one sent with the nonce.
        return state.version

    def response(
        self, type_url: str, state: TypeState, resources: TypeSnapshot
    ) -> Outgoing | None:
        """What changed for this client, from what it holds to what its subscription gets
        of `resources`. perf: a client holding exactly an earlier view (or nothing) gets
        the diff every client in the same state shares (controller/xds/shared.py);
        afterwards it holds the new view, shared again."""
        view, known = shared.view(resources, state.sub), state.known
        body, health = None, None
        if known.of is not None or not known:
            diff = shared.delta(known.of, view)
            changed, removed = diff.changed, diff.removed
            body, health = diff.body, diff.health_checked
        elif known.mapping == view.versions:  # perf: a reconnect holding it all already
            changed, removed = [], []
        else:  # its own versions (a reconnect's, or after an unsubscription)
            changed = [r for r in view.resources if known.get(r.name) != r.version]
            removed = sorted(n for n in known if n not in view.versions)
        known.share(view)
        # The first request is always answered, even with nothing: Envoy would
        # otherwise wait out its initial fetch timeout before finishing init.
        if state.answered and not changed and not removed:
            return None
        if body is None:
            body = wire.delta_body(version=resources.version, type_url=type_url,
                                   resources=changed, removed=removed)
        payload = wire.with_nonce(body, self.next_nonce(state))
        return Outgoing(payload, resources.version, changed, health, all_moved=True)
