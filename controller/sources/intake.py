"""The validation boundary both sources share: a raw object in, the event to emit out.

Every object the folder source parses and every object the cluster source lists or watches
goes through `admit_event` before anything else touches it (the folder's change detection
included), so the pipeline, the store and the builder only ever see valid objects. What is
valid is decided by `controller.validation.admit` (the CRD schemas of manifests/ and the API
server's rules for the core kinds); this module only turns its verdict into an event with a
key that is always a triple of strings, even for an object whose metadata are unreadable.
An Ingress path the builder will skip (a regex RE2 refuses, a host Envoy cannot match) is
valid input upstream, so it is admitted, with a warning that says why it is not served.
"""

from __future__ import annotations

from controller import faults
from controller.dag.ingress import skipped_paths
from controller.dag.secrets import (
    CERT_KEY,
    KEY_KEY,
    TLS_TYPE,
    SecretRejected,
    accept_secret,
    secret_data,
)
from controller.events import ObjectEvent
from controller.k8s.objects import INGRESS, SECRET, event_kind, key_of
from controller.k8s.views import ingress_view
from controller.validation import Admitted, admit


def _admitted(verdict: Admitted, source: str) -> ObjectEvent:
    """The upsert of a valid object, with the controller's own checks of what it will use:
    a TLS Secret whose key does not match its certificate is rejected here (the API server
    admits it; the controller could never serve it), an Ingress path the builder skips is
    a warning."""
    obj, warnings = verdict.obj, verdict.warnings
    if obj.get("kind") == SECRET:
        reason = _secret_problem(obj)
        if reason:
            ns, name = key_of(obj)
            return ObjectEvent.reject(SECRET, ns, name, source=source, reasons=(reason,))
    if obj.get("kind") == INGRESS:
        warnings += skipped_paths(ingress_view(obj))
    return ObjectEvent.upsert(obj, source=source, warnings=warnings)


def _secret_problem(obj: dict[str, object]) -> str:
    """Why a Secret cannot be used: the API server's rule that a kubernetes.io/tls Secret has
    both keys, then the controller's certificate and key checks; "" when it is fine."""
    if obj.get("type") == TLS_TYPE:
        missing = [k for k in (CERT_KEY, KEY_KEY) if k not in secret_data(obj)]
        if missing:
            return f"data: a {TLS_TYPE} Secret must have {' and '.join(missing)}"
    try:
        accept_secret(obj)
    except SecretRejected as err:
        return str(err)
    return ""


def admit_event(raw: object, *, source: str, fallback_name: str) -> ObjectEvent:
    """`upsert` for a valid object (pruned, with warnings), or `reject` with the reasons.

    A rejected object whose kind or name cannot be read is keyed as (kind or "", "",
    `fallback_name`): the caller picks a name unique to its place (e.g. `file#3`), so
    removing the place removes the report too. Never raises.
    """
    try:
        verdict = admit(raw)
    except Exception as err:  # noqa: BLE001 - the boundary itself must never stop a source
        reason = faults.quarantine_reason("validation", f"an object from {source}", err)
        return ObjectEvent.reject("", "", fallback_name, source=source, reasons=(reason,))
    if isinstance(verdict, Admitted):
        return _admitted(verdict, source)
    kind = event_kind(verdict.kind, raw.get("apiVersion") if isinstance(raw, dict) else None)
    if not verdict.kind or not verdict.name:
        return ObjectEvent.reject(kind, "", fallback_name, source=source,
                                  reasons=verdict.reasons)
    return ObjectEvent.reject(kind, verdict.namespace, verdict.name, source=source,
                              reasons=verdict.reasons)
