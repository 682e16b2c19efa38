"""`diff --to-dir NEW [--from-dir OLD]`: the blast radius of a change (the second mode of
the diff command; commands/diff.py registers the flag and hands over)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_contour.commands.common import emit

if TYPE_CHECKING:
    from kubectl_contour.objects import Snapshot
    from kubectl_contour.queries.blast import BlastRadius, RouteSide, StatusChange
    from kubectl_contour.queries.status import StatusRow

CHANGE_STYLES = {"added": "green", "removed": "bold red", "repointed": "yellow",
                 "newly invalid": "bold red", "newly orphaned": "yellow",
                 "newly valid": "green"}
GENERIC_REASONS = ("valid IngressRoute", "Valid HTTPProxy")
"""Reasons that only repeat the status (left out of the text; -o json keeps them)."""


def run(session: Any, *, to_dir: str) -> None:
    """Both sides built, compared, printed; exits 1 (CheckFailed) when anything changes."""
    from kubectl_contour.errors import CheckFailed, UsageError

    if not to_dir:
        raise UsageError("diff with --from-dir compares two folders: add --to-dir NEW",
                         hint="without --from-dir, diff compares the controller with Envoy")
    model = compute(session, to_dir=to_dir)
    emit(session, model, lambda rich: view(model, rich=rich))
    if model.changed:
        raise CheckFailed(f"the change moves {plural(len(model.routes), 'route')} and changes "
                          f"{plural(len(model.statuses), 'status', 'statuses')}")


def compute(session: Any, *, to_dir: str) -> BlastRadius:
    """OLD (--from-dir, or the cluster) against NEW (the folder, or the cluster with the
    folder's objects applied over it)."""
    from pathlib import Path

    from kubectl_contour import sources
    from kubectl_contour.queries.blast import blast_radius, overlay

    before = session.snapshot()
    change = sources.load_dir(Path(to_dir))
    after = change if session.offline else overlay(before, change)
    scope = None if session.options.all_namespaces else (session.options.namespace or None)
    return blast_radius(side(session, before), side(session, after), scope=scope)


def side(session: Any, snapshot: Snapshot) -> tuple[Any, list[StatusRow]]:
    from kubectl_contour.queries.status import status_rows

    dag = session.build(snapshot)
    rows = status_rows(snapshot, dag, scope=None,
                       ingress_class=session.builder_settings().ingress_class)
    return dag, rows


def plural(n: int, word: str, many: str = "") -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def view(m: BlastRadius, *, rich: bool) -> Any:
    from kubectl_contour.render.text import sections, table

    if not m.changed:
        return "No change: every route and status is the same on both sides."
    parts: list[Any] = []
    if m.routes:
        parts.append(table(
            ["change", "listener", "host", "route", "before", "after"],
            [[styled(r.change), r.listener, r.host, r.route, side_text(r.before),
              side_text(r.after) + (f"\n({r.detail})" if r.detail else "")] for r in m.routes],
            rich=rich, title="Routes (host × route → backends):"))
    if m.statuses:
        parts.append(table(
            ["change", "kind", "object", "before", "after"],
            [[styled(s.change), s.kind, f"{s.namespace}/{s.name}", status_text(s, after=False),
              status_text(s, after=True)] for s in m.statuses],
            rich=rich, title="Statuses:"))
    return sections(parts, rich=rich)


def styled(change: str) -> list[tuple[str, str]]:
    return [(change, CHANGE_STYLES.get(change, ""))]


def side_text(side: RouteSide | None) -> str:
    """`ns/svc:port` per upstream (with its share when there are several) or Envoy's own
    answer, then the objects that declared the route."""
    if side is None:
        return "-"
    lines = [side.answer] if side.answer else []
    many = len(side.upstreams) > 1
    lines += [f"{u.service}:{u.port}" + (f" {u.share:g}%" if many else "")
              for u in side.upstreams]
    if side.chain:
        lines.append(f"via {side.kind} " + " → ".join(side.chain))
    return "\n".join(lines) or "no upstream"


def status_text(s: StatusChange, *, after: bool) -> str:
    status, reason = (s.after, s.after_reason) if after else (s.before, s.before_reason)
    if not status:
        return "-"
    return f"{status}: {reason}" if reason and reason not in GENERIC_REASONS else status
