"""Provenance: where a DAG value came from (its own module so that model.py and
model_auth.py can both use it)."""

from __future__ import annotations

from controller.records import record


@record
class Provenance:
    """Where a route (or cluster, secret) came from: the object kind and the include or
    delegation path from the root to the object that declared it, root first."""

    kind: str
    chain: tuple[tuple[str, str], ...]

    @property
    def owner(self) -> tuple[str, str]:
        return self.chain[-1]
