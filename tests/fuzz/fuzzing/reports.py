"""Invariant 5, pure: is every bad object reported, and is nothing left of removed ones?

The controller reports an object by an IngressRoute's `/debug/status` row (`invalid`), by
`/debug/sources` (`errors` per file, `rejected` and `warnings` per object, each with its
`source` file), or by a log line `rejected <Kind> <namespace>/<name> from <source>: ...`.
`Reports` gathers what the controller said; the functions below compare it with the
verdicts of the generated objects (cases.Expect, cases.GroupCheck).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fuzzing.cases import Expect, GroupCheck
from fuzzing.oracle import BAD, GOOD, UNPARSEABLE, WARN

_REJECTED_LINE = re.compile(
    r"rejected (?P<kind>\S+) (?P<ident>.*) from (?P<source>\S+): (?P<reasons>.*)$")
_ADMITTED_LINE = re.compile(r"admitted (?P<kind>\S+) (?P<ident>.*) from (?P<source>\S+) with ")
Ident = tuple[str, str, str]  # kind, namespace, name


@dataclass
class Reports:
    statuses: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, set[Ident]] = field(default_factory=dict)  # source → idents
    warned: dict[str, set[Ident]] = field(default_factory=dict)
    logged_rejected: dict[str, set[str]] = field(default_factory=dict)  # source → "kind ident"
    logged_admitted: dict[str, set[str]] = field(default_factory=dict)

    def read_pages(self, status_rows: list[dict[str, Any]], sources: dict[str, Any]) -> None:
        """Replace what the debug pages said (the log lines accumulate separately)."""
        self.statuses = {(str(r.get("namespace")), str(r.get("name"))):
                         (str(r.get("currentStatus")), str(r.get("description")))
                         for r in status_rows if r.get("kind", "IngressRoute") == "IngressRoute"}
        self.errors = dict(sources.get("errors") or {})
        self.rejected = _by_source(sources.get("rejected") or [])
        self.warned = _by_source(sources.get("warnings") or [])

    def read_log(self, lines: Iterable[str]) -> None:
        for line in lines:
            for pattern, into in ((_REJECTED_LINE, self.logged_rejected),
                                  (_ADMITTED_LINE, self.logged_admitted)):
                m = pattern.search(line)
                if m:
                    into.setdefault(m.group("source"), set()).add(
                        f"{m.group('kind')} {m.group('ident')}")


def _by_source(rows: list[dict[str, Any]]) -> dict[str, set[Ident]]:
    out: dict[str, set[Ident]] = {}
    for r in rows:
        ident = (str(r.get("kind")), str(r.get("namespace")), str(r.get("name")))
        out.setdefault(str(r.get("source")), set()).add(ident)
    return out


def _matches(e: Expect, idents: set[Ident]) -> bool:
    """An entry of the object's file names it (or, when its identity was mutated into
    something unusable, any entry of its file does)."""
    if not idents:
        return False
    if not e.identified:
        return True
    return (e.kind, e.namespace, e.name) in idents


def _logged(e: Expect, lines: set[str]) -> bool:
    if not lines:
        return False
    return not e.identified or f"{e.kind} {e.namespace}/{e.name}" in lines


def is_rejected(e: Expect, source: str, r: Reports) -> bool:
    return _matches(e, r.rejected.get(source, set())) or \
        _logged(e, r.logged_rejected.get(source, set()))


def is_reported(e: Expect, source: str, r: Reports) -> bool:
    """Whether the object of verdict bad/unparseable/warn was reported: rejected, invalid,
    its file refused, or (not for unparseable files) admitted with a warning naming it."""
    if _strictly_reported(e, source, r):
        return True
    return e.verdict in (BAD, WARN) and (_matches(e, r.warned.get(source, set())) or
                                         _logged(e, r.logged_admitted.get(source, set())))


def softened(expects: Iterable[Expect], source_of: dict[str, str], r: Reports
             ) -> list[Expect]:
    """Bad objects admitted with a warning (the part at fault dropped) where the API server
    refuses the whole object: reported, but a different verdict (a finding)."""
    return [e for e in expects if e.verdict == BAD and not _strictly_reported(e, source_of[
        e.file], r) and (_matches(e, r.warned.get(source_of[e.file], set()))
                         or _logged(e, r.logged_admitted.get(source_of[e.file], set())))]


def _strictly_reported(e: Expect, source: str, r: Reports) -> bool:
    status = r.statuses.get((e.namespace, e.name))
    return source in r.errors or is_rejected(e, source, r) or (
        e.identified and e.kind == "IngressRoute" and status is not None
        and status[0] == "invalid")


def unreported(expects: Iterable[Expect], source_of: dict[str, str], r: Reports
               ) -> list[Expect]:
    """The objects that deserved a report and got none (source_of: file → its path)."""
    return [e for e in expects if e.verdict in (BAD, UNPARSEABLE, WARN)
            and not is_reported(e, source_of[e.file], r)]


def false_rejections(expects: Iterable[Expect], source_of: dict[str, str], r: Reports
                     ) -> list[Expect]:
    """Valid objects the boundary refused (a finding, not an invariant of issue 7)."""
    return [e for e in expects if e.verdict == GOOD and source_of[e.file] not in r.errors
            and _matches(e, r.rejected.get(source_of[e.file], set()))]


def group_failures(groups: Iterable[GroupCheck], r: Reports, https_names: set[str]
                   ) -> list[str]:
    out = []
    for g in groups:
        rows = [r.statuses.get(k) for k in g.keys]
        if g.what == "invalid_any" and not any(
                row and row[0] == "invalid" and g.needle in row[1] for row in rows):
            out.append(f"{g.why}: no member is invalid{f' with {g.needle!r}' if g.needle else ''}"
                       f" (statuses: {_brief(g.keys, rows)})")
        elif g.what == "valid_all" and not all(row and row[0] == "valid" for row in rows):
            out.append(f"{g.why}: not every member is valid ({_brief(g.keys, rows)})")
        elif g.what == "no_tls" and g.fqdn in https_names:
            out.append(f"{g.why}: ingress_https serves {g.fqdn}")
    return out


def _brief(keys: list[tuple[str, str]], rows: list[tuple[str, str] | None]) -> str:
    shown = [f"{ns}/{name}={row[0] if row else 'none'}"
             + (f" ({row[1][:60]})" if row and row[0] == "invalid" else "")
             for (ns, name), row in zip(keys, rows, strict=True)]
    return ", ".join(shown[:6]) + (f", ... {len(shown) - 6} more" if len(shown) > 6 else "")


def leftovers(r: Reports, prefixes: Iterable[str], dirs: Iterable[str]) -> list[str]:
    """Reports that still name objects of removed batches (names `b<i>-...`, files under
    their folders): removal must be exact."""
    prefixes, dirs = tuple(prefixes), tuple(dirs)
    if not prefixes:
        return []
    out = [f"/debug/status still lists {ns}/{name} ({row[0]})"
           for (ns, name), row in sorted(r.statuses.items()) if name.startswith(prefixes)]
    for what, by_source in (("rejected", r.rejected), ("warnings", r.warned)):
        out += [f"/debug/sources {what} still lists {sorted(idents)[:3]} from {src}"
                for src, idents in sorted(by_source.items()) if src.startswith(dirs)]
    out += [f"/debug/sources errors still lists {src}" for src in sorted(r.errors)
            if src.startswith(dirs)]
    return out
