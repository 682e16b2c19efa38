"""What the validation boundary refused or pruned, by object: the reports of issue "bad input
is always reported" (/debug/sources, /metrics, log lines, and `invalid` statuses).

Fed by the pipeline with every object event (so it lives on the event loop, like the store):
a `reject` event records the object, an `upsert` or `delete` of the same key clears it.
A log line is written when an object's verdict changes, not on every re-read of its file.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from controller.dag import status as st
from controller.dag.model import INVALID, VALID, Status
from controller.dag.proxystatus import with_error
from controller.events import DELETE, REJECT, ObjectEvent
from controller.k8s.objects import HTTPPROXY, INGRESSROUTE

log = logging.getLogger(__name__)

STATUS_KINDS = frozenset({INGRESSROUTE, HTTPPROXY})
"""Kinds whose rejection is also reported as an `invalid` status (they have one upstream)."""

SCHEMA_ERROR = ("SpecError", "Invalid")
"""An HTTPProxy the boundary refused: v1.33 has no such status (its API server refuses the
object), so the error is a SpecError with the API server's own reason for a refusal
(StatusReasonInvalid), its message the boundary's `<path>: <reason>` list."""
ENVOY_ERROR = ("VirtualHostError", "EnvoyConstraint")
"""An HTTPProxy root whose virtual host the translators refused to send (project addition)."""

ObjectKey = tuple[str, str, str]  # kind, namespace, name


class Rejections:
    """The objects currently rejected, and the ones admitted with pruned fields."""

    def __init__(self) -> None:
        self.rejected: dict[ObjectKey, ObjectEvent] = {}
        self.warned: dict[ObjectKey, ObjectEvent] = {}

    def record(self, event: ObjectEvent) -> bool:
        """Take one event; True when a status-bearing object's rejection appeared, changed
        or went away (its status must be rebuilt)."""
        key = event.key
        before = self.rejected.get(key)
        if event.op == REJECT:
            self.warned.pop(key, None)
            self.rejected[key] = event
            if before is None or before.reasons != event.reasons:
                log.warning("rejected %s %s/%s from %s: %s", event.kind, event.namespace,
                            event.name, event.source or "?", "; ".join(event.reasons))
        else:
            self.rejected.pop(key, None)
            self._warn(event)
        changed = before != self.rejected.get(key)
        return changed and event.kind in STATUS_KINDS

    def _warn(self, event: ObjectEvent) -> None:
        key = event.key
        before = self.warned.pop(key, None)
        if event.op == DELETE or not event.warnings:
            return
        self.warned[key] = event
        if before is None or before.warnings != event.warnings:
            log.warning("admitted %s %s/%s from %s with changes: %s", event.kind,
                        event.namespace, event.name, event.source or "?",
                        "; ".join(event.warnings))

    def statuses(self) -> tuple[Status, ...]:
        """`invalid` statuses for the rejected objects of STATUS_KINDS, sorted."""
        return tuple(
            _rejected_status(e) for key, e in sorted(self.rejected.items())
            if e.kind in STATUS_KINDS
        )  # fmt: skip

    def counts(self) -> dict[str, int]:
        """Rejected objects per kind (metrics)."""
        return dict(sorted(Counter(kind for kind, _, _ in self.rejected).items()))

    def report(self) -> dict[str, list[dict[str, Any]]]:
        """The `rejected` and `warnings` lists of /debug/sources, sorted by kind, namespace,
        name."""
        return {
            "rejected": [_row(e, "reasons", e.reasons) for _, e in sorted(self.rejected.items())],
            "warnings": [_row(e, "warnings", e.warnings) for _, e in sorted(self.warned.items())],
        }


def _rejected_status(event: ObjectEvent) -> Status:
    reasons = "; ".join(event.reasons)
    if event.kind == HTTPPROXY:
        blank = Status(event.namespace, event.name, INVALID, "", kind=HTTPPROXY)
        return with_error(blank, *SCHEMA_ERROR, reasons)
    return st.invalid((event.namespace, event.name), reasons)


def _row(event: ObjectEvent, field: str, values: tuple[str, ...]) -> dict[str, Any]:
    return {"kind": event.kind, "namespace": event.namespace, "name": event.name,
            "source": event.source, field: list(values)}


def merged_statuses(built: tuple[Status, ...], rejected: tuple[Status, ...]) -> tuple[Status, ...]:
    """The builder's statuses plus the boundary's, sorted by (namespace, name) as the builder
    sorts. A rejected object is not in the store, so the two never name the same object."""
    if not rejected:
        return built
    return tuple(sorted(built + rejected, key=lambda s: (s.namespace, s.name, s.kind)))


def with_translation_rejections(statuses: tuple[Status, ...],
                                rejected_hosts: dict[str, str]) -> tuple[Status, ...]:
    """The statuses with every valid root whose virtual host the translators refused to send
    (Envoy would reject it: controller/xdscache/verdicts.py) turned `invalid` with the
    reason. Order is kept."""
    if not rejected_hosts:
        return statuses
    return tuple(
        _translation_rejected(s, rejected_hosts[s.vhost])
        if s.current == VALID and s.vhost in rejected_hosts else s
        for s in statuses
    )


def _translation_rejected(status: Status, reason: str) -> Status:
    if status.kind == HTTPPROXY:
        return with_error(status, *ENVOY_ERROR, reason)
    return st.invalid((status.namespace, status.name), reason, status.vhost)
