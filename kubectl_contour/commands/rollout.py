"""`rollout FROM TO --steps ...`: a metric-gated, resumable blue/green or canary at the
ingress; `rollout status|promote|abort|undo ROOT` (commands/rollout_ops.py) work on the
state it records on the root."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kubectl_contour.commands.common import session_of
from kubectl_contour.commands.envoy_flags import (
    DEFAULT_NAMESPACE,
    DEFAULT_SELECTOR,
    AdminUrls,
    EnvoyNamespace,
    Selector,
)
from kubectl_contour.completion import COMMANDS

HELP = """Metric-gated rollout at the ingress: `rollout FROM TO --steps 10,25,50,100` shifts
traffic from FROM to TO in steps, each written as one atomic JSON patch of the root and
checked on every Envoy, then watched for --interval on Envoy's own numbers; a step whose
TO is over --max-5xx or --max-p99 (and worse than FROM) aborts: traffic returns to FROM in
one patch, exit 1. The state lives in an annotation on the root: `rollout status ROOT`,
`rollout promote ROOT [--full]`, `rollout abort ROOT`, `rollout undo ROOT` work from any
process. Exit codes: 0 done; 1 a gate failed (aborted), a check failed or the root changed
meanwhile; 2 usage; 3 not found; 4 cluster or Envoy unreachable; 5 timeout (the rollout
stays at its step: promote or abort continue it)."""

START_HELP = """Start a rollout from FROM to TO ([KIND/][NS/]NAME, as for switch). The root entry
leading to FROM becomes, at each step, routes listing FROM's and TO's services with TO's
share the step's percentage; the last step (100) is exactly what `switch FROM TO` writes.
Before step one: TO exists, is valid once switched, has ready endpoints; every step's split
builds as planned (the controller's builder); the TLS certificates on the way outlive the
rollout; no other rollout runs on the root. Shows the plan and asks (--yes skips, --dry-run
only shows). `rollout FROM TO` is short for `rollout start FROM TO`."""

SUBCOMMANDS = ("start", "status", "promote", "abort", "undo")


class RolloutGroup(TyperGroup):
    """`rollout FROM TO ...` runs `start`; `rollout status ROOT` and the others run
    themselves."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)


Steps = Annotated[str, typer.Option(help="Percentages to TO, the last one 100.",
                                    metavar="10,25,50,100")]
Interval = Annotated[str, typer.Option(help="How long each step is watched.",
                                       metavar="DURATION")]
Max5xx = Annotated[str, typer.Option("--max-5xx", help="Highest 5xx rate of TO.",
                                     metavar="PERCENT")]
MaxP99 = Annotated[str, typer.Option("--max-p99", help="Highest p99 upstream time of TO "
                                     "(off: no latency gate).", metavar="DURATION")]
MinRequests = Annotated[int, typer.Option(help="Requests TO must serve in a step before "
                                          "its gate is judged.", metavar="N")]
StepTimeout = Annotated[float, typer.Option(help="Seconds to wait for every Envoy to serve a "
                                        "step.", metavar="S")]


def register(app: typer.Typer) -> None:
    from kubectl_contour.commands import rollout_ops

    group = typer.Typer(cls=RolloutGroup, help=HELP, no_args_is_help=True,
                        rich_markup_mode=None)

    @group.command("start", help=START_HELP)
    def start(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(metavar="FROM")],
        target: Annotated[str, typer.Argument(metavar="TO")],
        steps: Steps,
        root: Annotated[str, typer.Option(help="The root ([KIND/][NS/]NAME) when several "
                                          "lead to FROM.", metavar="ROOT")] = "",
        interval: Interval = "60s",
        max_5xx: Max5xx = "1%",
        max_p99: MaxP99 = "500ms",
        min_requests: MinRequests = 100,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
        dry_run: Annotated[bool, typer.Option(help="Only show the plan.")] = False,
        timeout: StepTimeout = 60.0,
        admin_url: AdminUrls = None,
        envoy_namespace: EnvoyNamespace = DEFAULT_NAMESPACE,
        selector: Selector = DEFAULT_SELECTOR,
    ) -> None:
        from kubectl_contour.commands.rollout_drive import fetchers
        from kubectl_contour.commands.switch import confirm
        from kubectl_contour.queries.rollout_state import parse_steps, parse_thresholds

        session = session_of(ctx)
        limits = parse_thresholds(interval=interval, max_5xx=max_5xx, max_p99=max_p99,
                                  min_requests=min_requests)
        envoys = fetchers(session, (admin_url, envoy_namespace, selector))  # before any write
        state, plan, checks, obj = prepare(session, source=source, target=target, root=root,
                                           steps=parse_steps(steps), limits=limits,
                                           envoys=envoys)
        preview(session, state, plan, checks)
        if dry_run:
            return
        confirm(session, yes=yes, question="Start this rollout?",
                cancelled="rollout cancelled")
        run_first_step(session, state, plan, obj, envoys=envoys, timeout=timeout)

    rollout_ops.register(group)
    app.add_typer(group, name="rollout", short_help=COMMANDS["rollout"])


def prepare(session: Any, *, source: str, target: str, root: str, steps: tuple[int, ...],
            limits: Any, envoys: list[Any]) -> tuple[Any, Any, list[Any], Any]:
    """The first state (step one), the switch plan, every pre-flight check and the root as
    stored (what the first patch tests)."""
    from kubectl_contour.commands.switch import prepare as prepare_switch
    from kubectl_contour.errors import CheckFailed, UsageError
    from kubectl_contour.objects import ref
    from kubectl_contour.queries.rollout_plan import make_recipe
    from kubectl_contour.queries.rollout_state import RUNNING, Rollout, now_text

    if session.offline:
        raise UsageError("a rollout writes to the cluster: drop --from-dir")
    try:
        plan, after = prepare_switch(session, source=source, target=target, root=root)
    except CheckFailed:
        raise_if_running(session.snapshot(), source)
        raise
    if len(plan.roots()) > 1:
        raise UsageError(f"{ref(plan.source)} is reached from several roots "
                         f"({', '.join(ref(r) for r in plan.roots())}): a rollout is "
                         "recorded on one, pass --root")
    snapshot = session.snapshot()
    (namespace, name) = plan.roots()[0]
    # the root as stored: the snapshot's objects passed the validation boundary, which may
    # prune fields, and `undo` must give back the spec byte for byte
    obj = session.kube.get_proxy(plan.kind, namespace=namespace, name=name)
    recipe = make_recipe(snapshot, plan)
    stamp = now_text()
    state = Rollout(plan.kind, ref(plan.roots()[0]), ref(plan.source), ref(plan.target),
                    steps, 0, RUNNING, stamp, stamp, limits, obj.get("spec") or {}, recipe)
    checks = rollout_checks(session, state, plan, obj, after)
    return state, plan, [*plan.checks, *checks, envoy_stats_check(envoys, state)], obj


def raise_if_running(snapshot: Any, source: str) -> None:
    """Nothing leads to FROM because a rollout of it runs (its root is split): say so."""
    from kubectl_contour.errors import CheckFailed
    from kubectl_contour.objects import key_of, ref
    from kubectl_contour.queries.proxies import PROXY_KINDS
    from kubectl_contour.queries.rollout_state import RUNNING, recorded
    from kubectl_contour.queries.statuses import split_kind

    name = split_kind(source)[1].rpartition("/")[2]
    for kind in PROXY_KINDS:
        for obj in snapshot.of_kind(kind):
            state = recorded(obj, where=f"{kind} {ref(key_of(obj))}")
            if state and state.phase == RUNNING and name in (
                    state.source.split("/")[1], state.target.split("/")[1]):
                raise CheckFailed(f"a rollout {state.source} → {state.target} runs on {kind} "
                                  f"{state.root} (step {state.step + 1}/{len(state.steps)})",
                                  hint="`kubectl contour rollout promote|abort|undo "
                                       f"{kind.lower()}/{state.root}` first")


def rollout_checks(session: Any, state: Any, plan: Any, obj: Any, after: Any) -> list[Any]:
    import datetime as dt

    from kubectl_contour.queries.rollout_checks import (
        none_running_check,
        split_checks,
        tls_check,
    )
    from kubectl_contour.queries.rollout_state import recorded

    gated = len(state.steps) - 1
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=gated * state.thresholds.interval)
    return [*split_checks(session.snapshot(), plan, state.recipe, state.steps, session.build,
                          after),
            tls_check(after, plan, until=until),
            none_running_check(recorded(obj, where=state.root), plan.roots()[0])]


def envoy_stats_check(envoys: list[Any], state: Any) -> Any:
    """Every Envoy answers its admin and keeps the cluster stats the gate reads."""
    from kubectl_contour.admin import get_json
    from kubectl_contour.queries.rollout_checks import stats_check
    from kubectl_contour.queries.rollout_gate import parse_stats, stats_path
    from kubectl_contour.queries.rollout_plan import stat_names

    namespace = state.root.split("/", 1)[0]
    names = stat_names(namespace, state.recipe, "from")
    path = stats_path([*names, *stat_names(namespace, state.recipe, "to")])
    return stats_check({f.name: parse_stats(get_json(f, path)) for f in envoys}, names)


def preview(session: Any, state: Any, plan: Any, checks: list[Any]) -> None:
    from kubectl_contour.commands.rollout_view import plan_view
    from kubectl_contour.errors import CheckFailed

    session.print(plan_view(plan, state, checks, rich=session.rich))
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    if failed:
        raise CheckFailed(f"refusing to start the rollout: {'; '.join(failed)}")


def run_first_step(session: Any, state: Any, plan: Any, obj: Any, *, envoys: list[Any],
                   timeout: float) -> None:
    """Write step one (the spec as read is what its patch tests), then drive."""
    from kubectl_contour.commands.rollout_drive import Context, drive, step_text
    from kubectl_contour.commands.rollout_drive import move as move_root
    from kubectl_contour.commands.rollout_view import progress_for

    session.print("")  # between the plan and the state the rollout ends in
    ctx = Context(session, plan, session.snapshot(), obj, envoys, timeout,
                  progress_for(session))
    try:
        move_root(ctx, state.base, state, state.spec())
        ctx.progress.event(f"{ctx.label}: {step_text(state)} written")
        ctx.progress.final(drive(ctx, state))
    finally:
        ctx.progress.close()
