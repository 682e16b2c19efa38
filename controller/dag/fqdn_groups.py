"""Roots grouped by lower-cased fqdn, kept up to date as roots change (both incremental
root kinds use it: a change to a group re-checks its duplicates and claims)."""

from __future__ import annotations

from controller.dag.multimap import MultiMap
from controller.k8s.objects import Key


class FqdnGroups:
    """fqdn → the root keys naming it, and back."""

    __slots__ = ("_fqdn_of", "_groups")

    def __init__(self) -> None:
        self._fqdn_of: dict[Key, str] = {}
        self._groups: MultiMap[str, Key] = MultiMap()

    def move(self, key: Key, fqdn: str | None, changed: set[str]) -> None:
        """Put `key` in the group of `fqdn` (None: in no group, it is not a root); the
        group it left and the one it joined are added to `changed`."""
        old = self._fqdn_of.pop(key, None)
        if old is not None:
            changed.add(old)
            self._groups.discard(old, key)
        if fqdn is not None:
            self._fqdn_of[key] = fqdn
            self._groups.add(fqdn, key)
            changed.add(fqdn)

    def members(self, fqdn: str) -> set[Key]:
        return self._groups.get(fqdn)
