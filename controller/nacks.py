"""NACK attribution and quarantine: when an Envoy rejects a response, find the hosts whose
change caused it, hold them at what Envoy last accepted, report them invalid with Envoy's
message, and let every other change flow again.

The suspects are the hosts changed since every Envoy last held everything (the translator's
`holds`). When Envoy's message names one, that one is tried; otherwise the rejected update
is bisected against the Envoy that rejected it: a half is sent with the other suspects held,
and its ACK or NACK says which half to keep. The last suspect is confirmed before it is
quarantined (the hosts cleared so far are rejected with it and accepted without it), so a
rejection no host explains quarantines none; with two culprits, one is found, and the next
NACK finds the other.
Each round is one push and one answer: a few milliseconds on loopback.

Validation at the boundary should leave nothing for this to do (issue 7); it is the last
line, and a test provokes it with an Envoy that has an extension disabled.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from controller.programmed.state import PROGRAMMED_TYPES
from controller.routing import RoutingPublisher
from controller.xds.registry import Nack, NodeRegistry, RegistryEvent
from controller.xdscache.snapshot import SnapshotCache

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 5.0
"""Seconds to wait for Envoy's answer to one probe before giving the bisection up (a push
that is superseded by a new build may never be answered as such)."""


def named_hosts(suspects: list[str], message: str) -> list[str]:
    """The suspects Envoy's message names as a whole host name: a vhost's domain, a strict
    table `https/<host>`, a scope `ingress_http/<host>` (xdscache/scopes.py). `a.io` is not
    named by `ba.io` or `a.io.example.com` (the confirmation would clear it, one round
    later)."""
    return [h for h in suspects if h in message and re.search(
        rf"(?<![A-Za-z0-9.*-]){re.escape(h)}(?![A-Za-z0-9-]|\.[A-Za-z0-9])", message)]


class NackResolver:
    def __init__(self, routing: RoutingPublisher, registry: NodeRegistry,
                 cache: SnapshotCache) -> None:
        self._routing, self._registry, self._cache = routing, registry, cache
        self._task: asyncio.Task[None] | None = None
        self._answer: tuple[str, str, Callable[[RegistryEvent], None]] | None = None
        self.quarantines = 0
        cache.add_listener(self._maybe_stable)  # with no Envoy connected, every publish is

    def _maybe_stable(self) -> None:
        """Every connected Envoy holds all the content: nothing is suspect any more (the
        translator drops what it kept of earlier parts)."""
        if self._task is not None and not self._task.done():
            return  # a bisection compares against the parts kept
        if self._registry.all_hold(self._cache.snapshot.serials(), PROGRAMMED_TYPES):
            self._routing.translator.holds.mark_stable()

    def on_event(self, event: RegistryEvent) -> None:
        """The registry's hook: feeds a waiting probe, notices stability, starts a
        resolution on a NACK (one at a time; a NACK during one is its answer or waits for
        the next)."""
        if self._answer is not None and self._answer[:2] == (event.node_id, event.type_url):
            self._answer[2](event)
        busy = self._task is not None and not self._task.done()
        if event.kind in ("ack", "current"):
            self._maybe_stable()
        if event.kind == "nack" and event.nack is not None and not busy:
            self._task = asyncio.get_running_loop().create_task(self.resolve(event.nack))

    async def resolve(self, nack: Nack) -> None:
        holds = self._routing.translator.holds
        suspects = holds.changed_hosts()
        named = named_hosts(suspects, nack.message)
        culprit = await self._bisect(nack, suspects, named or suspects)
        holds.probe(set())
        if culprit is not None:
            reason = (f"Envoy {nack.node_id} rejected the update that carried this virtual "
                      f"host: {nack.message}")
            log.warning("quarantined %s: %s", culprit, reason)
            self._routing.translator.quarantine(culprit, reason)
            self.quarantines += 1
        else:
            log.warning("NACK from %s for %s not attributed to a virtual host (suspects: %d): "
                        "%s", nack.node_id, nack.type_url, len(suspects), nack.message)
        self._routing.retranslate(suspects)

    async def _bisect(self, nack: Nack, suspects: list[str],
                      narrowed: list[str]) -> str | None:
        """The one host of `narrowed` whose content Envoy rejects, or None."""
        cleared: set[str] = set()
        while len(narrowed) > 1:
            half, rest = narrowed[:len(narrowed) // 2], narrowed[len(narrowed) // 2:]
            accepted = await self._try(nack, suspects, set(suspects) - cleared - set(half))
            if accepted is None:
                return None
            if accepted:
                cleared.update(half)
                narrowed = rest
            else:
                narrowed = half
        if not narrowed:
            return None
        # Confirm: the cleared hosts with it are rejected, without it accepted (a rejection
        # no host explains fails the second; another culprit is never among the cleared).
        candidate = narrowed[0]
        with_it = await self._try(nack, suspects, set(suspects) - cleared - {candidate})
        if with_it is not False:
            return None
        without = await self._try(nack, suspects, set(suspects) - cleared)
        return candidate if without else None

    async def _try(self, nack: Nack, suspects: list[str], held: set[str]) -> bool | None:
        """Send the suspects but `held`; True when the rejecting Envoy ACKs, False on a
        NACK (or when the held hosts leave the rejected type as it was), None: no answer."""
        self._routing.translator.holds.probe(held)
        self._routing.retranslate(suspects)
        sent = self._cache.snapshot.get(nack.type_url)
        log.info("NACK bisection: %d of %d suspects held; %s version %s", len(held),
                 len(suspects), nack.type_url.rsplit(".", 1)[-1], sent.version)
        if sent.version == nack.version:
            return False
        node = self._registry.node(nack.node_id)
        if node is not None and node.held.get(nack.type_url, 0) >= sent.serial \
                and nack.type_url not in node.rejecting:
            return True  # the held hosts leave the type as the Envoy already accepted it
        answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_answer(event: RegistryEvent) -> None:
            if answered.done():
                return
            if event.kind in ("ack", "current") and event.serial >= sent.serial:
                answered.set_result(True)
            elif event.kind == "nack" and event.version == sent.version:
                answered.set_result(False)

        self._answer = (nack.node_id, nack.type_url, on_answer)
        try:
            return await asyncio.wait_for(answered, ANSWER_TIMEOUT)
        except TimeoutError:
            return None
        finally:
            self._answer = None
