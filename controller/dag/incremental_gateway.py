"""The Gateway API half of the incremental builder (incremental.py).

The Gateway API layer is small next to the other kinds (one Gateway, its routes), so it is
re-run whole, through a `deps.Recorder`, when an event touches a Gateway API kind, a
Namespace, the Envoy Service (the Gateway's addresses), or a Service or Secret the last
run read; otherwise its last result stands.
The hosts it had and has are replayed (incremental.py compares the frozen vhosts, so only
the hosts that changed reach the translator).
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.config import BuilderSettings
from controller.dag import gatewayapi
from controller.dag.builder import gateway_listeners
from controller.dag.deps import Deps, Recorder
from controller.dag.gateway_reads import GatewayResult
from controller.dag.gateway_store import GATEWAY_KINDS
from controller.dag.model import GatewayListener
from controller.dag.store import ObjectStore
from controller.k8s.objects import SECRET, SERVICE, Key


class GatewayLayer:
    def __init__(self, store: ObjectStore, settings: BuilderSettings) -> None:
        self.store, self.settings = store, settings
        self.result = GatewayResult()
        self.by_host: dict[str, GatewayResult] = {}
        """`result` split per host, for the replay of one host (incremental.py)."""
        self.listeners: tuple[GatewayListener, ...] = ()
        """Isolated Gateways' own listeners (builder.gateway_listeners of `result`)."""
        self._deps = Deps()
        self._owned: set[Key] = set()  # the isolated Gateways' Services the last run read

    def update(self, first: bool, touched: Iterable[tuple[str, Key]], hosts: set[str]) -> bool:
        """Re-run when needed; adds the hosts it had and has. True when it re-ran."""
        if not first and not any(self._read(kind, key) for kind, key in touched):
            return False
        before = self.result.hosts()
        deps = Deps()
        self.result = gatewayapi.process(Recorder(self.store, deps), self.settings)
        self.by_host = self.result.by_host()
        listeners = gateway_listeners(self.result)
        if listeners != self.listeners:  # the same tuple while equal: the translator's `is`
            self.listeners = listeners
        self._deps = deps
        self._owned = set(self.store.gateway.owned)
        hosts |= before | self.result.hosts()
        return True

    def _read(self, kind: str, key: Key) -> bool:
        if kind in GATEWAY_KINDS:
            return True
        if kind == SERVICE:
            return (key in self._deps.services or key == self.settings.envoy_service
                    or key in self._owned or key in self.store.gateway.owned)
        return kind == SECRET and key in self._deps.secrets
