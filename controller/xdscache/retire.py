"""Make-before-break for removals.

When a build stops using a cluster or a secret (blue → green: the route now names green's
cluster), removing it in the same push would let Envoy drop it while the route table it
holds still names it, and requests would see 503 until the new routes land. So removed
clusters and secrets are kept for one more round: they are published alongside the new
resources, and pruned only once every connected Envoy has acknowledged (or rejected) the
listeners and routes that no longer use them, or after a deadline.

Who acknowledged what is the xDS server's bookkeeping (`controller.xds.registry`), which
imports this package; so the retirer asks through `Answers`, the one question it needs,
and never imports the server (tests/test_layering.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from controller.xdscache.snapshot import CLUSTER, LISTENER, ROUTE, SECRET, SnapshotCache

log = logging.getLogger(__name__)

RETIRED_TYPES = (CLUSTER, SECRET)
USERS = (LISTENER, ROUTE)  # the types whose ACK proves nothing names the retired ones
DEADLINE = 10.0


class Answers(Protocol):
    """Which versions the connected Envoys have answered (`NodeRegistry` is one)."""

    def all_answered(self, type_url: str, version: str) -> bool:
        """True when every connected Envoy has ACKed or NACKed `version` of `type_url`."""
        ...


@dataclass
class Retirer:
    cache: SnapshotCache
    registry: Answers
    deadline: float = DEADLINE
    retiring: dict[str, set[str]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _since: float = 0.0

    def hold_back(self, changed: Mapping[str, Mapping[str, bytes]],
                  removed: dict[str, set[str]]) -> None:
        """Take this build's cluster and secret removals out of `removed` (in place) and
        remember them for pruning; a name that comes back is no longer retiring."""
        for type_url in RETIRED_TYPES:
            back = set(changed.get(type_url, {}))
            retiring = (self.retiring.get(type_url, set()) - back) | set(
                removed.pop(type_url, set()))
            self.retiring[type_url] = retiring
        if any(self.retiring.values()):
            self._since = time.monotonic()
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (tests, tools): nobody to protect, prune now
            self.prune()
            return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._prune_when_acked())

    async def _prune_when_acked(self) -> None:
        while time.monotonic() - self._since < self.deadline and not self._users_acked():
            await asyncio.sleep(0.05)
        self.prune()

    def _users_acked(self) -> bool:
        return all(self.registry.all_answered(t, self.cache.version(t)) for t in USERS)

    def prune(self) -> None:
        removed = {t: names for t, names in self.retiring.items() if names}
        self.retiring = {}
        if removed:
            self.cache.publish({t: {} for t in removed}, partial=True, removed=removed)
            log.debug("pruned retired resources: %s", {t: len(n) for t, n in removed.items()})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


