"""Invariant 5, pure: is every bad object reported, and is nothing left of removed ones?

The controller reports an object by an IngressRoute's or HTTPProxy's `/debug/status` row
(`invalid`; an HTTPProxy's conditions carry the errors), by `/debug/sources` (`errors` per
file, `rejected` and `warnings` per object, each with its `source` file), or by a log line
`rejected <Kind> <namespace>/<name> from <source>: ...`. `Reports` gathers what the
controller said; the functions below compare it with the verdicts of the generated objects
(cases.Expect, cases.GroupCheck).

An object whose kind/namespace/name a later file (by path, as the folder source orders
them) also defines is shadowed: the folder source serves the later file's, as `kubectl
apply` of both files would leave it, so the shadowed one is owed no report of its own
(`shadowed`). Matching it against the later file's report was the one "unreported"
object of the 100k run 3: batch 475 of seed 20261202 defines Service fz-b/`a`*300 twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fuzzing.family import Expect, GroupCheck
from fuzzing.oracle import BAD, GOOD, UNPARSEABLE, WARN

_REJECTED_LINE = re.compile(
    r"rejected (?P<kind>\S+) (?P<ident>.*) from (?P<source>\S+): (?P<reasons>.*)$")
_ADMITTED_LINE = re.compile(r"admitted (?P<kind>\S+) (?P<ident>.*) from (?P<source>\S+) with ")
Ident = tuple[str, str, str]  # kind, namespace, name
STATUS_KINDS = ("IngressRoute", "HTTPProxy")
HTTPPROXY = "HTTPProxy"
SCHEMA_ERROR = ("SpecError", "Invalid")  # an HTTPProxy the boundary refused (its condition)


@dataclass
class Reports:
    statuses: dict[Ident, tuple[str, str]] = field(default_factory=dict)  # → (current, text)
    schema_errors: dict[Ident, str] = field(default_factory=dict)  # HTTPProxy SpecError/Invalid
    errors: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, set[Ident]] = field(default_factory=dict)  # source → idents
    warned: dict[str, set[Ident]] = field(default_factory=dict)
    logged_rejected: dict[str, set[str]] = field(default_factory=dict)  # source → "kind ident"
    logged_admitted: dict[str, set[str]] = field(default_factory=dict)

    def read_pages(self, status_rows: list[dict[str, Any]], sources: dict[str, Any]) -> None:
        """Replace what the debug pages said (the log lines accumulate separately)."""
        rows = [r for r in status_rows if r.get("kind", "IngressRoute") in STATUS_KINDS]
        self.statuses = {_ident(r): (str(r.get("currentStatus")), _status_text(r))
                         for r in rows}
        self.schema_errors = {_ident(r): m for r in rows for m in _schema_errors(r)}
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


def _ident(row: dict[str, Any]) -> Ident:
    return (str(row.get("kind", "IngressRoute")), str(row.get("namespace")),
            str(row.get("name")))


def _errors(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for c in row.get("conditions") or [] for e in c.get("errors") or []]


def _status_text(row: dict[str, Any]) -> str:
    """The description, and for an HTTPProxy every error of its conditions."""
    return "; ".join([str(row.get("description")),
                      *(f"{e.get('type')}/{e.get('reason')}: {e.get('message')}"
                        for e in _errors(row))])


def _schema_errors(row: dict[str, Any]) -> list[str]:
    return [str(e.get("message")) for e in _errors(row)
            if (e.get("type"), e.get("reason")) == SCHEMA_ERROR]


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
    status = r.statuses.get((e.kind, e.namespace, e.name))
    return source in r.errors or is_rejected(e, source, r) or (
        e.identified and e.kind in STATUS_KINDS and status is not None
        and status[0] == "invalid")


def unreported(expects: Iterable[Expect], source_of: dict[str, str], r: Reports
               ) -> list[Expect]:
    """The objects that deserved a report and got none (source_of: file → its path)."""
    return [e for e in expects if e.verdict in (BAD, UNPARSEABLE, WARN)
            and not is_reported(e, source_of[e.file], r)]


def status_problem(e: Expect, source: str, r: Reports) -> str | None:
    """What is wrong with a bad HTTPProxy's status (None when nothing is, or when the object
    is not an identified bad HTTPProxy of a readable file): it must be `invalid` with a
    SpecError/Invalid error naming a path the oracle found at fault."""
    if e.verdict != BAD or e.kind != HTTPPROXY or not e.identified or source in r.errors:
        return None
    ident = (e.kind, e.namespace, e.name)
    status, message = r.statuses.get(ident), r.schema_errors.get(ident)
    if status is None or status[0] != "invalid":
        return f"status {status[0] if status else 'missing'}, not invalid"
    if message is None:
        return f"no {'/'.join(SCHEMA_ERROR)} error in its conditions ({status[1][:200]})"
    if not any(p in message for p in (*e.paths, "(root)")):
        return f"its {'/'.join(SCHEMA_ERROR)} error names none of {list(e.paths)[:4]}: " \
               f"{message[:200]}"
    return None


def shadowed(present: Iterable[Expect], source_of: dict[str, str]) -> set[int]:
    """ids of the identified objects of `present` whose kind/namespace/name a later file
    (by path) also defines: the folder source serves that file's (see the module)."""
    winner: dict[Ident, PurePath] = {}
    present = [e for e in present if e.identified]
    for e in present:
        path = PurePath(source_of[e.file])
        key = (e.kind, e.namespace, e.name)
        winner[key] = max(winner.get(key, path), path)
    return {id(e) for e in present
            if PurePath(source_of[e.file]) != winner[(e.kind, e.namespace, e.name)]}


def false_rejections(expects: Iterable[Expect], source_of: dict[str, str], r: Reports
                     ) -> list[Expect]:
    """Valid objects the boundary refused (a finding, not an invariant of issue 7)."""
    return [e for e in expects if e.verdict == GOOD and source_of[e.file] not in r.errors
            and _matches(e, r.rejected.get(source_of[e.file], set()))]


def group_failures(groups: Iterable[GroupCheck], r: Reports, https_names: set[str]
                   ) -> list[str]:
    out = []
    for g in groups:
        rows = [r.statuses.get((g.kind, *k)) for k in g.keys]
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
    out = [f"/debug/status still lists {kind} {ns}/{name} ({row[0]})"
           for (kind, ns, name), row in sorted(r.statuses.items()) if name.startswith(prefixes)]
    for what, by_source in (("rejected", r.rejected), ("warnings", r.warned)):
        out += [f"/debug/sources {what} still lists {sorted(idents)[:3]} from {src}"
                for src, idents in sorted(by_source.items()) if src.startswith(dirs)]
    out += [f"/debug/sources errors still lists {src}" for src in sorted(r.errors)
            if src.startswith(dirs)]
    return out
