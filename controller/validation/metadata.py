"""What every object must have, whatever its kind: `apiVersion` and `kind` strings and the
ObjectMeta fields the controller reads, by the API server's rules. `envelope()` wraps a
kind's schema with them; `identity()` reads kind/namespace/name for a rejection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from controller.validation import formats

Schema = dict[str, Any]

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def metadata_schema(name_rule: Schema, namespaced: bool = True) -> Schema:
    """name (required, by the kind's rule), namespace (a DNS-1123 label, or "" for unset;
    any string for a cluster-scoped kind, whose namespace the API server ignores), labels
    and annotations (string → string maps)."""
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": name_rule,
            # "" is unset, as the API server takes it (the object lands in the request's
            # namespace; here `default`, as key_of and identity() read it)
            "namespace": formats.dns1123_label(allow_empty=True) if namespaced
            else {"type": "string"},
            "labels": _STRING_MAP,
            "annotations": _STRING_MAP,
        },
    }


def envelope(schema: Schema, name_rule: Schema, api_versions: Iterable[str] = (),
             namespaced: bool = True) -> Schema:
    """`schema` (a kind's own, or {} for an unknown kind) with apiVersion (one of
    `api_versions` when given), kind and metadata required and checked."""
    versions = sorted(api_versions)
    api_version: Schema = {"type": "string", "minLength": 1}
    if versions:
        api_version["enum"] = versions
    properties = {
        **schema.get("properties", {}),
        "apiVersion": api_version,
        "kind": {"type": "string", "minLength": 1},
        "metadata": metadata_schema(name_rule, namespaced),
    }
    required = sorted({"apiVersion", "kind", "metadata", *schema.get("required", ())})
    return {**schema, "type": "object", "required": required, "properties": properties}


def identity(obj: object, namespaced: bool) -> tuple[str, str, str]:
    """(kind, namespace, name), best effort: "" for what is not a string; a namespaced
    object without a namespace is in `default` (as `kubectl apply` would put it); the
    namespace is "" too when the kind or the metadata cannot be read."""
    raw = obj if isinstance(obj, dict) else {}
    kind, meta = raw.get("kind"), raw.get("metadata")
    kind = kind if isinstance(kind, str) else ""
    if not isinstance(meta, dict):
        return (kind, "", "")
    name, namespace = meta.get("name"), meta.get("namespace", "")
    name = name if isinstance(name, str) else ""
    if not kind or not namespaced or not isinstance(namespace, str):
        return (kind, "", name)
    return (kind, namespace or "default", name)
