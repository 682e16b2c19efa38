"""State-of-the-world streams.

xDS protocol: for Listener and Cluster every response is the complete set the client
wants (a missing listener/cluster is deleted). For the other types (endpoints,
routes, secrets) a response need carry only the resources that are new or changed
for this client, which is what makes the EDS fast path cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from controller.xds import wire
from controller.xds.held import Held
from controller.xds.stream import Outgoing, TypeState, XdsStream
from controller.xds.subscription import sorted_resources
from controller.xdscache.snapshot import CLUSTER, LISTENER, Resource, TypeSnapshot

FULL_STATE_TYPES = frozenset({LISTENER, CLUSTER})


class SotwStream(XdsStream):
    kind = "sotw"

    def on_request(self, type_url: str, state: TypeState, request: Any) -> None:
        # The names are the client's whole interest; a changed list is answered at
        # once by the writer (upstream waited for the next change: #426).
        state.sub.replace(request.resource_names)

    def acked_version(self, state: TypeState, request: Any) -> str:
        return str(request.version_info)

    def response(
        self, type_url: str, state: TypeState, resources: TypeSnapshot
    ) -> Outgoing | None:
        wanted = state.sub.resolve(resources)
        versions = {name: r.version for name, r in wanted.items()}
        due = _due(type_url, wanted, versions, state.known.mapping)
        # Forget unsubscribed names, so a later re-subscription is answered in full.
        # A NACKed response stays "sent": it is not pushed again until content moves.
        state.known = Held(versions)
        if state.answered and due is None:
            return None
        payload = wire.sotw_response(
            version=resources.version,
            type_url=type_url,
            nonce=self.next_nonce(state),
            resources=due or [],
        )
        return Outgoing(payload, resources.version, due or ())


def _due(
    type_url: str, wanted: dict[str, Resource], versions: dict[str, str],
    sent: Mapping[str, str],
) -> list[Resource] | None:
    """What to send, or None when the client already has it all."""
    if type_url in FULL_STATE_TYPES:
        return None if versions == sent else sorted_resources(wanted)
    # After a CDS change Envoy re-requests EDS with every name (gotcha 8): only
    # what is new or changed versus what this client was sent goes out.
    changed = [r for r in sorted_resources(wanted) if sent.get(r.name) != r.version]
    return changed or None
