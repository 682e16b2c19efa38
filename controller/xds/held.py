"""What one client holds of one type (name -> version), shared while clients are in step.

perf (bench fanout, issue 12): a delta stream must know every version it sent, and at 10k
clusters and 10k endpoints that was two 10k-entry dicts per stream, ~2 MB per connected
Envoy. Yet after a response that left the client with everything a type has, what it holds
is exactly what its subscription gets of that TypeSnapshot, the same for every client in
step. `Held` then points at that view's one versions dict (`shared.view`) and copies it
only when this client's state departs from it (copy-on-write).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.xds.shared import View


class Held:
    """name -> version; `of` tells which shared view's content it is exactly (or None)."""

    __slots__ = ("_map", "of")

    def __init__(self, versions: Mapping[str, str] | None = None) -> None:
        self._map: dict[str, str] = dict(versions or {})
        self.of: View | None = None
        """Set by `share`: the map is that view's versions, never mutated here."""

    # --- reading -------------------------------------------------------------------
    def get(self, name: str, default: str | None = None) -> str | None:
        return self._map.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __bool__(self) -> bool:
        return bool(self._map)

    @property
    def mapping(self) -> Mapping[str, str]:
        """The current map, read-only: it stays as it is even when this Held moves on
        (a shared map is never mutated; an own one is replaced on `share`)."""
        return self._map

    def frozen(self) -> Mapping[str, str]:
        """A map that later changes to this Held do not touch (no copy when shared)."""
        return self._map if self.of is not None else dict(self._map)

    # --- changing ------------------------------------------------------------------
    def share(self, view: View) -> None:
        """The client now holds exactly `view`'s content."""
        self._map, self.of = view.versions, view

    def _own(self) -> dict[str, str]:
        if self.of is not None:
            self._map, self.of = dict(self._map), None
        return self._map

    def pop(self, name: str) -> None:
        if name in self._map:
            del self._own()[name]

    def update(self, versions: Mapping[str, str]) -> None:
        if versions:
            self._own().update(versions)
