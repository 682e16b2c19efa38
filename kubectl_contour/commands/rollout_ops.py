"""`rollout status|promote|abort|undo ROOT`: read or move the rollout recorded on a root,
from any process (a second terminal, a CI job, or after the one that started it died)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from kubectl_contour.commands.common import emit, session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrls,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.flags import Output

RootArg = Annotated[str, typer.Argument(help="The root ([KIND/][NS/]NAME).", metavar="ROOT")]
StepTimeout = Annotated[float, typer.Option(help="Seconds to wait for every Envoy to serve a "
                                            "step.", metavar="S")]
Wait = Annotated[bool, typer.Option(help="Wait until every Envoy serves FROM again.")]
WATCH_SECONDS = 1.0


def register(group: typer.Typer) -> None:
    @group.command("status", help="Show the rollout recorded on ROOT: phase, step, gates and "
                   "each judged step's numbers. --watch follows it until it is done (exit "
                   "0) or aborted (exit 1).")
    def status(ctx: typer.Context, root: RootArg,
               watch: Annotated[bool, typer.Option("--watch", "-w",
                                                   help="Follow the rollout.")] = False,
               output: Output = "") -> None:
        session = session_of(ctx)
        session.output = output
        kind, key, state = load(session, root)[:3]
        show(session, state)
        if watch:
            follow(session, kind, key, state)

    @group.command("promote", help="Apply the next step of ROOT's rollout now (its gate is "
                   "skipped), then drive the rest as `rollout` does; --full goes to 100%.")
    def promote(ctx: typer.Context, root: RootArg,
                full: Annotated[bool, typer.Option(help="Go straight to 100%.")] = False,
                timeout: StepTimeout = 60.0, admin_url: AdminUrls = None,
                envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
                selector: Selector = DEFAULT_SELECTOR) -> None:
        session = session_of(ctx)
        run(session, root, (admin_url, envoy_namespace, selector), timeout,
            lambda c, s: promote_state(c, s, full=full))

    for name, text, action in (
            ("abort", "Return ROOT's running rollout to FROM (one patch).", abort_state),
            ("undo", "Restore ROOT's spec as it was before the rollout (byte for byte) and "
                     "forget the rollout; from any phase.", undo_state)):
        register_back(group, name, text, action)


def register_back(group: typer.Typer, name: str, text: str, action: Any) -> None:
    """`abort` and `undo`: one patch back to FROM, `--wait` for every Envoy to serve it."""

    @group.command(name, help=text)
    def back(ctx: typer.Context, root: RootArg, wait: Wait = False,
             timeout: StepTimeout = 60.0, admin_url: AdminUrls = None,
             envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
             selector: Selector = DEFAULT_SELECTOR) -> None:
        flags = (admin_url, envoy_namespace, selector) if wait else None
        run(session_of(ctx), root, flags, timeout, action)


def load(session: Any, text: str) -> tuple[str, Any, Any, dict[str, Any]]:
    """(kind, key, the recorded state, the root as read now); NotFound (3) without one."""
    from kubectl_contour.errors import NotFound
    from kubectl_contour.objects import ref
    from kubectl_contour.queries.rollout_state import recorded
    from kubectl_contour.queries.statuses import resolve_proxy

    kind, key = resolve_proxy(session.snapshot(), text, namespace=session.options.namespace
                              or None)
    obj = session.kube.get_proxy(kind, namespace=key[0], name=key[1])
    state = recorded(obj, where=f"{kind} {ref(key)}")
    if state is None:
        raise NotFound(f"no rollout is recorded on {kind} {ref(key)}",
                       hint="`kubectl contour rollout FROM TO --steps ...` starts one")
    return kind, key, state, obj


def show(session: Any, state: Any) -> None:
    from kubectl_contour.commands.rollout_view import state_view

    emit(session, state, lambda rich: state_view(state, rich=rich))


def follow(session: Any, kind: str, key: Any, state: Any) -> None:
    """Print the state again at each change until it is no longer running."""
    from kubectl_contour.errors import CheckFailed
    from kubectl_contour.objects import ref
    from kubectl_contour.queries.rollout_state import ABORTED, RUNNING, encode, recorded

    where = f"{kind} {ref(key)}"
    while state is not None and state.phase == RUNNING:
        time.sleep(WATCH_SECONDS)
        now = recorded(session.kube.get_proxy(kind, namespace=key[0], name=key[1]),
                       where=where)
        if now is not None and encode(now) != encode(state):
            show(session, now)
        state = now
    if state is None:
        raise CheckFailed(f"the rollout on {where} was undone")
    if state.phase == ABORTED:
        raise CheckFailed(f"the rollout on {where} was aborted: {state.reason}")


def run(session: Any, root: str, flags: tuple[Any, ...] | None, timeout: float,
        action: Any) -> None:
    """Load the recorded rollout, let `action` move it (with Envoys when `flags` say
    how to reach them), print where it ended."""
    from kubectl_contour.commands.rollout_drive import context_for, fetchers
    from kubectl_contour.commands.rollout_view import PlainProgress, progress_for

    kind, key, state, obj = load(session, root)
    envoys = fetchers(session, flags) if flags else []
    progress = progress_for(session) if flags else PlainProgress(session)
    ctx = context_for(session, state, obj, fetchers=envoys, timeout=timeout,
                      progress=progress)
    try:
        final = action(ctx, state)
        if final is not None:
            progress.final(final)
    finally:
        progress.close()


def running(ctx: Any, state: Any, verb: str) -> None:
    from kubectl_contour.errors import CheckFailed
    from kubectl_contour.queries.rollout_state import RUNNING

    if state.phase != RUNNING:
        raise CheckFailed(f"the rollout on {ctx.label} is {state.phase}: nothing to {verb}",
                          hint="`rollout undo` restores the spec from before it")


def promote_state(ctx: Any, state: Any, *, full: bool) -> Any:
    from kubectl_contour.commands.rollout_drive import advance, drive, ensure_unchanged
    from kubectl_contour.queries.rollout_state import DONE, RUNNING

    running(ctx, state, "promote")
    ensure_unchanged(ctx, state)
    nxt = len(state.steps) - 1 if full else state.step + 1
    new = state.moved(step=nxt, phase=DONE if nxt == len(state.steps) - 1 else RUNNING,
                      reason=f"promoted to step {nxt + 1} by `rollout promote`")
    advance(ctx, state, new)
    return drive(ctx, new)


def abort_state(ctx: Any, state: Any) -> Any:
    from kubectl_contour.commands.rollout_drive import confirm, move, step_text
    from kubectl_contour.queries.rollout_state import ABORTED

    running(ctx, state, "abort")
    aborted = state.moved(phase=ABORTED, reason=f"{step_text(state)}: aborted by "
                                                "`rollout abort`")
    move(ctx, state.spec(), aborted, aborted.spec())
    ctx.progress.event(f"{ctx.label}: aborted, traffic back on {state.source}")
    if ctx.fetchers:
        confirm(ctx, aborted, 0, what=f"traffic back on {state.source}")
    return aborted


def undo_state(ctx: Any, state: Any) -> None:
    from kubectl_contour.commands.rollout_drive import confirm, move

    move(ctx, state.spec(), None, state.base)
    ctx.progress.event(f"{ctx.label}: spec restored from before the rollout "
                       f"({state.source}); the rollout is forgotten")
    if ctx.fetchers:
        confirm(ctx, state, 0, what=f"traffic back on {state.source}")
