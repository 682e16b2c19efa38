"""The validation boundary: `admit(obj)` decides whether a raw object may enter the store.

Fast path: the object passes its kind's strict schema (kinds.py) and is admitted as it
is, no copy. Otherwise the slow path does what the API server does: prune (prune.py),
then validate the pruned copy; the result is an `Admitted` copy with warnings naming
every pruned field, or a `Rejected` with every reason. Measured at 10k clean objects:
BENCHMARKS.md "Validation boundary". Either way an admitted object then passes its kind's
CEL rules (cel.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from controller.records import record
from controller.validation.kinds import Rule, rule_for
from controller.validation.metadata import identity
from controller.validation.prune import Pruning

log = logging.getLogger(__name__)


@record
class Admitted:
    obj: dict[str, Any]  # the object to store: a pruned copy when anything was pruned
    warnings: tuple[str, ...]  # sorted, e.g. "spec.routes[0].colour: unknown field, pruned"


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: str  # "" when unreadable
    namespace: str  # "default" for a namespaced kind without one; "" cluster-scoped/unreadable
    name: str  # "" when unreadable
    reasons: tuple[str, ...]  # non-empty, sorted, "<path>: <reason>"


def admit(obj: object) -> Admitted | Rejected:
    """Admitted or Rejected (see the module docstring). Never raises, for any JSON/YAML
    value; an exception inside is a bug, reported as an `internal error` reason."""
    try:
        rule = rule_for(obj)
        if rule.fast and isinstance(obj, dict):
            validator = rule.validator_for(obj) if rule.variant_field else rule.validator
            if validator.is_valid(obj):
                return _with_cel(Admitted(obj, ()), rule)
        verdict = _slow_path(obj, rule)
        return _with_cel(verdict, rule) if isinstance(verdict, Admitted) else verdict
    except RecursionError:
        return _rejected(obj, ["(root): nested too deeply"])
    except Exception as e:  # the boundary must hold; tests fail on this reason
        log.exception("validation failed unexpectedly")
        return _rejected(obj, [f"(root): internal error in validation: {type(e).__name__}"])


def _with_cel(verdict: Admitted, rule: Rule) -> Admitted | Rejected:
    """The schema-valid object through its kind's CEL rules, as the API server runs them."""
    problems = rule.cel_tree.problems(verdict.obj) if rule.cel else []
    return _rejected(verdict.obj, problems, namespaced=rule.namespaced) if problems else verdict


def _slow_path(obj: object, rule: Rule) -> Admitted | Rejected:
    """Prune, then validate the pruned copy (see the module docstring)."""
    if not isinstance(obj, dict):
        return _rejected(obj, rule.validator.reasons(obj))
    validator = rule.validator_for(obj)
    pruning = Pruning(crd=rule.crd)
    pruned = pruning.prune_object(obj, validator.schema)
    reasons = pruning.problems or validator.reasons(pruned)
    if reasons:
        return _rejected(obj, reasons, namespaced=rule.namespaced)
    if not pruning.warnings:
        return Admitted(obj, ())
    return Admitted(pruned, tuple(sorted(pruning.warnings)))


def _rejected(obj: object, reasons: list[str], *, namespaced: bool = True) -> Rejected:
    kind, namespace, name = identity(obj, namespaced)
    return Rejected(kind, namespace, name, tuple(sorted(reasons)) or ("(root): invalid",))
