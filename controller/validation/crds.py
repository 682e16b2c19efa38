"""A CustomResourceDefinition as a compact description (`CRD`, written in crd_heptio.py
and crd_projectcontour.py) and the manifest document it stands for (`document`); the
manifest file is written by crd_manifest.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.validation.openapi import STRING, Schema


@dataclass(frozen=True)
class Column:
    """One `kubectl get` printer column (a string at `json_path`)."""

    name: str
    json_path: str
    description: str


def proxy_columns(kind: str, *middle: Column) -> tuple[Column, ...]:
    """The printer columns IngressRoute and HTTPProxy share: FQDN, TLS Secret, `middle`,
    Status and Status Description (of the `kind`)."""
    return (
        Column("FQDN", ".spec.virtualhost.fqdn", "Fully qualified domain name"),
        Column("TLS Secret", ".spec.virtualhost.tls.secretName", "Secret with TLS credentials"),
        *middle,
        Column("Status", ".status.currentStatus", f"The current status of the {kind}"),
        Column("Status Description", ".status.description", "Description of the current status"),
    )


@dataclass(frozen=True)
class CRD:
    """One CustomResourceDefinition with one served and stored version."""

    group: str
    version: str
    kind: str
    plural: str
    spec: Schema
    status: Schema | None = None
    """The status schema; given, the status subresource is enabled too."""
    short_names: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    required: tuple[str, ...] = ()
    """Top-level required fields (v1.33 requires metadata and spec)."""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"


def root_schema(crd: CRD) -> Schema:
    """The version's openAPIV3Schema: apiVersion, kind, metadata, spec (and status)."""
    properties: Schema = {"apiVersion": dict(STRING), "kind": dict(STRING),
                          "metadata": {"type": "object"}, "spec": crd.spec}
    if crd.status is not None:
        properties["status"] = crd.status
    out: Schema = {"type": "object"}
    if crd.required:
        out["required"] = list(crd.required)
    out["properties"] = properties
    return out


def version_entry(crd: CRD) -> dict[str, Any]:
    out: dict[str, Any] = {"name": crd.version, "served": True, "storage": True}
    if crd.status is not None:
        out["subresources"] = {"status": {}}
    if crd.columns:
        out["additionalPrinterColumns"] = [
            {"name": c.name, "type": "string", "description": c.description,
             "jsonPath": c.json_path} for c in crd.columns]
    out["schema"] = {"openAPIV3Schema": root_schema(crd)}
    return out


def document(crd: CRD) -> dict[str, Any]:
    """The CustomResourceDefinition object (apiextensions.k8s.io/v1)."""
    metadata: dict[str, Any] = {"name": crd.name}
    if crd.labels:
        metadata["labels"] = dict(crd.labels)
    names: dict[str, Any] = {"plural": crd.plural, "singular": crd.kind.lower(),
                             "kind": crd.kind, "listKind": f"{crd.kind}List"}
    if crd.short_names:
        names["shortNames"] = list(crd.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {"group": crd.group, "scope": "Namespaced", "names": names,
                 "versions": [version_entry(crd)]},
    }
