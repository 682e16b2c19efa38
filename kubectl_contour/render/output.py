"""-o json|yaml: view models (dataclasses) → stable, sorted documents."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any

from kubectl_contour.errors import UsageError

FORMATS = ("json", "yaml")


def plain_data(value: Any) -> Any:
    """Dataclasses, tuples and enums → JSON-ready dicts and lists (field order kept)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def dump(value: Any, *, fmt: str) -> str:
    data = plain_data(value)
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    raise UsageError(f"unknown output format {fmt!r}; use one of: {', '.join(FORMATS)}")
