"""Build statuses: one row per IngressRoute, HTTPProxy or ExtensionService, and v1.33's
DetailedCondition (the `Valid` condition with its errors and warnings). Immutable values,
part of the DAG (model.py re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.records import record

VALID = "valid"
INVALID = "invalid"
ORPHANED = "orphaned"


@record
class Status:
    """The status of one IngressRoute after a build."""

    namespace: str
    name: str
    current: str  # VALID | INVALID | ORPHANED
    description: str
    vhost: str = ""
    kind: str = "IngressRoute"
    conditions: tuple[Condition, ...] = ()
    """HTTPProxy only: v1.33's `status.conditions` (the Valid condition)."""


@dataclass(frozen=True, slots=True)
class SubCondition:
    """One entry of a Valid condition's `errors` or `warnings` (v1.33 DetailedCondition)."""

    type: str
    reason: str
    message: str
    status: str = "True"


@dataclass(frozen=True, slots=True)
class Condition:
    """v1.33's DetailedCondition: `status` "True"/"False", errors and warnings."""

    type: str
    status: str
    reason: str
    message: str
    errors: tuple[SubCondition, ...] = ()
    warnings: tuple[SubCondition, ...] = ()
