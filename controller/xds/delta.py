"""Delta (incremental) streams: send only new or changed resources and removed names."""

from __future__ import annotations

from typing import Any

from controller.xds import wire
from controller.xds.stream import Outgoing, TypeState, XdsStream
from controller.xds.subscription import sorted_resources
from controller.xdscache.snapshot import Resource, TypeSnapshot


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
            state.known.pop(name, None)  # the client forgets these itself

    def acked_version(self, state: TypeState, request: Any) -> str:
        # Delta requests carry no version: the ACKed one is the one sent with the nonce.
        return state.version

    def response(
        self, type_url: str, state: TypeState, resources: TypeSnapshot
    ) -> Outgoing | None:
        wanted = state.sub.resolve(resources)
        changed = [r for r in sorted_resources(wanted) if state.known.get(r.name) != r.version]
        removed = sorted(name for name in state.known if name not in wanted)
        # The first request is always answered, even with nothing: Envoy would
        # otherwise wait out its initial fetch timeout before finishing init.
        if state.answered and not changed and not removed:
            return None
        _remember(state, changed, removed)
        payload = wire.delta_response(
            version=resources.version,
            type_url=type_url,
            nonce=self.next_nonce(state),
            resources=changed,
            removed=removed,
        )
        return Outgoing(payload, resources.version)


def _remember(state: TypeState, changed: list[Resource], removed: list[str]) -> None:
    for r in changed:
        state.known[r.name] = r.version
    for name in removed:
        del state.known[name]
