"""Small helpers every command uses: the session from the context and data output."""

from __future__ import annotations

from typing import Any

import typer

from kubectl_contour.session import Session


def session_of(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    assert isinstance(obj, Session), "the root callback builds the session"
    return obj


def emit(session: Session, model: Any, view: Any) -> None:
    """Print `model` as -o json|yaml, or else the renderable returned by `view(rich=...)`."""
    if session.output:
        from kubectl_contour.render.output import dump

        session.print(dump(model, fmt=session.output))
        return
    session.print(view(rich=session.rich))


def status_parts(status: str, reason: str) -> list[tuple[str, str]]:
    """`[valid]`, or `[invalid: reason]` (the generic "valid IngressRoute" and "Valid
    HTTPProxy" are implied)."""
    from kubectl_contour.render.text import status_style

    if not status:
        return [("[no status]", "dim")]
    if reason and reason not in ("valid IngressRoute", "Valid HTTPProxy"):
        return [(f"[{status}: {reason}]", status_style(status))]
    return [(f"[{status}]", status_style(status))]


def service_parts(s: Any) -> list[tuple[str, str]]:
    """A service or backendRef leaf (queries.tree.ServiceLeaf): `name:port (weight W, R/T
    ready)`, or `(service not found)`."""
    if not s.exists:
        return [(f"{s.name}:{s.port} ", ""), ("(service not found)", "bold red")]
    weight = "" if s.weight is None else f"weight {s.weight}, "
    style = "green" if s.ready else "bold red"
    return [(f"{s.name}:{s.port} ", ""), (f"({weight}{s.ready}/{s.total} ready)", style)]
