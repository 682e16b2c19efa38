"""A key → set-of-values index that keeps a lone value unboxed.

The incremental builders' indexes (which roots read an object, which roots recorded a
status, which roots name an fqdn) hold one value per key nearly always. memory
(bench/memory.py, 50k IngressRoutes): a one-element set is 216 bytes, so those indexes held
~50 MB of sets; a bare value costs nothing beyond the dict slot.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Hashable)


class _Many(set):  # type: ignore[type-arg]
    """Marks a boxed value set (a value may itself be a set-like tuple, never a _Many)."""

    __slots__ = ()


class MultiMap(Generic[K, V]):
    """`add`/`discard` (key, value) pairs; `get(key)` is the values of key, as a set."""

    __slots__ = ("_by",)

    def __init__(self) -> None:
        self._by: dict[K, V | _Many] = {}

    def add(self, key: K, value: V) -> None:
        found = self._by.get(key)
        if found is None:
            self._by[key] = value
        elif isinstance(found, _Many):
            found.add(value)
        elif found != value:
            self._by[key] = _Many((found, value))

    def discard(self, key: K, value: V) -> None:
        found = self._by.get(key)
        if found is None:
            return
        if not isinstance(found, _Many):
            if found == value:
                del self._by[key]
            return
        found.discard(value)
        if len(found) == 1:
            self._by[key] = next(iter(found))

    def get(self, key: K) -> set[V]:
        """A new set of the values of `key` (empty when none)."""
        found = self._by.get(key)
        if found is None:
            return set()
        return set(found) if isinstance(found, _Many) else {found}

    def __contains__(self, key: object) -> bool:
        return key in self._by

    def __iter__(self) -> Iterator[K]:
        return iter(self._by)

    def __len__(self) -> int:
        return len(self._by)
