"""Driving a rollout from the state recorded on its root: write a step (one JSON patch),
wait until every Envoy serves it, watch Envoy's numbers for the step's interval, judge the
gate, then the next step, or the abort. Any process can drive from any recorded state
(`rollout`, then `rollout promote` after a kill), because everything needed is recorded."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from kubectl_contour.errors import CheckFailed, Conflict, PluginError, Timeout
from kubectl_contour.objects import Key, Snapshot, key_of, ref, spec_of
from kubectl_contour.queries.rollout_gate import FAIL, HOLD, PASS, WAIT, Side, Verdict
from kubectl_contour.queries.rollout_state import (
    ABORTED,
    ANNOTATION,
    DONE,
    RUNNING,
    Rollout,
    encode,
)
from kubectl_contour.queries.switch import SwitchPlan

COVER_WAIT = 10.0
"""Seconds to wait after an interval for Envoy's histograms to hold its requests (Envoy
merges them at each stats flush, every 5 s by default)."""


@dataclass
class Context:
    """One process's view of the rollout it drives."""

    session: Any
    plan: SwitchPlan
    snapshot: Snapshot
    """The cluster's objects with the root at its pre-rollout spec."""
    obj: dict[str, Any]
    """The root as last read or written (its annotation is what the next patch tests)."""
    fetchers: list[Any]
    timeout: float
    progress: Any
    dags: dict[int, Any] = field(default_factory=dict)

    @property
    def root(self) -> Key:
        return key_of(self.obj)

    @property
    def label(self) -> str:
        return f"{self.plan.kind.lower()} {ref(self.root)}"


def context_for(session: Any, state: Rollout, obj: dict[str, Any], *, fetchers: list[Any],
                timeout: float, progress: Any) -> Context:
    """The context of a recorded rollout: FROM, TO and the root's entries are found again
    on the pre-rollout spec."""
    from kubectl_contour.queries.switch import plan_switch

    snapshot = session.snapshot().replaced(admitted_root({**obj, "spec": state.base}))
    plan = plan_switch(snapshot, source=key_text(state.source), target=key_text(state.target),
                       root=key_of(obj), kind=state.kind)
    return Context(session, plan, snapshot, obj, fetchers, timeout, progress)


def key_text(text: str) -> Key:
    """`ns/name` as recorded → (namespace, name)."""
    namespace, _, name = text.partition("/")
    return namespace, name


def dag_at(ctx: Context, state: Rollout, weight: int) -> Any:
    from kubectl_contour.queries.rollout_plan import spec_at

    if weight not in ctx.dags:
        spec = spec_at(state.kind, state.base, state.recipe, weight)
        root = admitted_root({**ctx.obj, "spec": spec})
        ctx.dags[weight] = ctx.session.build(ctx.snapshot.replaced(root))
    return ctx.dags[weight]


def admitted_root(obj: dict[str, Any]) -> dict[str, Any]:
    """The root as the controller stores it (through its validation boundary, as every
    object of the snapshot): a root the boundary refuses stays as it is, for the builder
    to judge."""
    import copy

    from kubectl_contour.sources import admitted

    objects, _ = admitted([(copy.deepcopy(obj), "rollout")])
    return objects[0] if objects else obj


def expected_at(ctx: Context, state: Rollout, weight: int) -> Any:
    """The shares Envoy must serve at `weight`: FROM's routes (0), TO's (100), or the
    routes standing for FROM's with both sides' services."""
    from kubectl_contour.queries.rollout_checks import fqdns_of, host_routes, via
    from kubectl_contour.queries.rollout_envoy import expected_shares

    hosts, plan = fqdns_of(ctx.plan), ctx.plan
    if weight >= 100:
        return expected_shares(r for _, r in host_routes(dag_at(ctx, state, 100), hosts)
                               if via(r, plan, plan.target))
    ids = {i for i, r in host_routes(dag_at(ctx, state, 0), hosts) if via(r, plan, plan.source)}
    return expected_shares(r for i, r in host_routes(dag_at(ctx, state, weight), hosts)
                           if i in ids)


# ------------------------------------------------------------------------------ writes


def move(ctx: Context, expected_spec: dict[str, Any], new: Rollout | None,
         spec: dict[str, Any]) -> None:
    """One atomic patch of the root to `spec` and the state `new` (None: forgotten)."""
    from kubectl_contour.queries.rollout_state import transition_ops

    ops = transition_ops(ctx.obj, expected_spec, spec, encode(new) if new else None)
    kind, (namespace, name) = ctx.plan.kind, ctx.root
    try:
        ctx.obj = ctx.session.kube.patch_proxy(kind, namespace=namespace, name=name, ops=ops)
    except Conflict as exc:
        raise changed_error(ctx, expected_spec) from exc


def changed_error(ctx: Context, expected_spec: dict[str, Any]) -> PluginError:
    """The root changed since this process read or wrote it: say what changed."""
    kind, (namespace, name) = ctx.plan.kind, ctx.root
    try:
        now = ctx.session.kube.get_proxy(kind, namespace=namespace, name=name)
    except PluginError:
        now = {}
    hint = f"`kubectl contour rollout status {kind.lower()}/{namespace}/{name}` shows the state"
    if spec_of(now) != expected_spec:
        return Conflict(f"{kind} {namespace}/{name} was edited since the rollout wrote it, "
                        f"so it was not patched (its spec is not the one the rollout "
                        f"recorded)", hint=hint)
    return Conflict(f"the rollout on {kind} {namespace}/{name} was changed by another "
                    f"process, so this one stops", hint=hint)


def ensure_unchanged(ctx: Context, state: Rollout) -> None:
    """Stop early when someone else moved the rollout or edited the root meanwhile."""
    kind, (namespace, name) = ctx.plan.kind, ctx.root
    now = ctx.session.kube.get_proxy(kind, namespace=namespace, name=name)
    mine = (ctx.obj.get("metadata") or {}).get("annotations") or {}
    theirs = (now.get("metadata") or {}).get("annotations") or {}
    if theirs.get(ANNOTATION) != mine.get(ANNOTATION) or spec_of(now) != state.spec():
        raise changed_error(ctx, state.spec())


# ------------------------------------------------------------------------------ Envoys


def confirm(ctx: Context, state: Rollout, weight: int, *, what: str) -> None:
    """Wait until every Envoy serves `weight` (Timeout, exit 5, leaves the state)."""
    from kubectl_contour.admin import get_dumps, get_json
    from kubectl_contour.queries.envoy import route_dumps
    from kubectl_contour.queries.rollout_checks import fqdns_of
    from kubectl_contour.queries.rollout_envoy import missing, served_shares

    expected, hosts = expected_at(ctx, state, weight), fqdns_of(ctx.plan)
    deadline = time.monotonic() + ctx.timeout
    pending, last = {f.name: f for f in ctx.fetchers}, ""
    while pending:
        for name, fetcher in sorted(pending.items()):
            routes = get_dumps(fetcher, route_dumps(hosts))
            clusters = get_json(fetcher, "/config_dump?resource=dynamic_active_clusters")
            gaps = missing(expected, served_shares(routes, clusters, hosts))
            if not gaps:
                del pending[name]
            last = f"{name}: {'; '.join(gaps)}" if gaps else last
        if pending and time.monotonic() >= deadline:
            raise Timeout(f"{what} is not served by every Envoy after {ctx.timeout:g}s "
                          f"({last})", hint=resume_hint(ctx))
        if pending:
            time.sleep(0.2)
    ctx.progress.event(f"{what}: served by {len(ctx.fetchers)}/{len(ctx.fetchers)} Envoys")


def resume_hint(ctx: Context) -> str:
    target = f"{ctx.plan.kind.lower()}/{ctx.root[0]}/{ctx.root[1]}"
    return (f"the rollout stays where it is: `kubectl contour rollout promote {target}` "
            f"continues it, `rollout abort {target}` returns to FROM")


def fetchers(session: Any, flags: tuple[Any, ...]) -> list[Any]:
    """The Envoys a rollout reads: (admin URLs, pod namespace, pod selector) as flagged."""
    from kubectl_contour.commands.envoy_flags import envoy_fetchers

    admin_url, namespace, selector = flags
    return list(envoy_fetchers(session, admin_url=admin_url, namespace=namespace,
                               selector=selector))


def read_stats(ctx: Context, names: list[str]) -> dict[str, Any]:
    """Envoy name → stat name → ClusterStats, for every Envoy."""
    from kubectl_contour.admin import get_json
    from kubectl_contour.queries.rollout_gate import parse_stats, stats_path

    path = stats_path(names)
    return {f.name: parse_stats(get_json(f, path)) for f in ctx.fetchers}


# ------------------------------------------------------------------------------ the loop


def step_text(state: Rollout, step: int | None = None) -> str:
    i = state.step if step is None else step
    return f"step {i + 1}/{len(state.steps)} ({state.steps[i]}% to {state.target})"


def drive(ctx: Context, state: Rollout) -> Rollout:
    """From a state just written, step by step to DONE (returned); a breached gate aborts
    (CheckFailed, exit 1, after traffic is back on FROM). Interrupted (Ctrl-C), the state
    stays where it is and the user is told how to go on."""
    try:
        return steps(ctx, state)
    except KeyboardInterrupt:
        ctx.progress.close()
        ctx.session.note(f"interrupted: {resume_hint(ctx)}")
        raise


def steps(ctx: Context, state: Rollout) -> Rollout:
    while True:
        confirm(ctx, state, state.weight, what=step_text(state))
        if state.phase == DONE:
            ctx.progress.event(f"rollout done: {state.target} takes all the traffic")
            return state
        verdict, envoys = watch(ctx, state)
        gate = gate_record(state, verdict, envoys)
        if verdict.state == FAIL:
            abort_after(ctx, state, gate, "; ".join(verdict.reasons))
        ctx.progress.event(f"{step_text(state)}: gate passed: {numbers(verdict)}")
        nxt = state.step + 1
        new = state.moved(step=nxt, phase=DONE if nxt == len(state.steps) - 1 else RUNNING,
                          gate=gate)
        advance(ctx, state, new)
        state = new


def advance(ctx: Context, state: Rollout, new: Rollout) -> None:
    move(ctx, state.spec(), new, new.spec())
    ctx.progress.event(f"{ctx.label}: {step_text(new)} written")


def abort_after(ctx: Context, state: Rollout, gate: dict[str, Any], why: str) -> None:
    """Traffic back on FROM in one patch, confirmed on every Envoy, then CheckFailed."""
    aborted = state.moved(phase=ABORTED, reason=f"{step_text(state)}: {why}", gate=gate)
    move(ctx, state.spec(), aborted, aborted.spec())
    ctx.progress.event(f"{ctx.label}: aborted at {step_text(state)}: {why}")
    confirm(ctx, aborted, 0, what=f"traffic back on {state.source}")
    ctx.progress.final(aborted)
    raise CheckFailed(f"rollout aborted at {step_text(state)}: {why}; traffic is back on "
                      f"{state.source}")


def numbers(verdict: Verdict) -> str:
    from kubectl_contour.queries.rollout_gate import ms, percent

    def one(s: Side) -> str:
        return f"{s.requests} requests, {percent(s.rate)} 5xx, p99 {ms(s.p99)}"

    return f"TO {one(verdict.to)}; FROM {one(verdict.source)}"


def gate_record(state: Rollout, verdict: Verdict, envoys: dict[str, Any]) -> dict[str, Any]:
    """The judged step as recorded in the annotation (`rollout status` shows it)."""
    from kubectl_contour.queries.rollout_state import now_text

    def side(s: Side) -> dict[str, Any]:
        return {"requests": s.requests, "errors": s.errors,
                "p99_ms": None if s.p99 is None else round(s.p99, 1)}

    return {"step": state.step + 1, "weight": state.weight, "verdict": verdict.state,
            "reasons": list(verdict.reasons), "to": side(verdict.to),
            "from": side(verdict.source), "at": now_text(),
            "envoys": {n: {"to": side(v.to), "from": side(v.source)}
                       for n, v in sorted(envoys.items())}}


def watch(ctx: Context, state: Rollout) -> tuple[Verdict, dict[str, Verdict]]:
    """Read Envoy's numbers until the step's gate passes or fails (a HOLD measures a new
    interval); 5xx abort at once. Timeout (exit 5) when the gate cannot be judged within
    ten intervals (too little traffic, or held)."""
    from kubectl_contour.queries.rollout_plan import stat_names

    limits = state.thresholds
    names = {side: stat_names(ctx.root[0], state.recipe, side) for side in ("to", "from")}
    window = Window(ctx, names, read_stats(ctx, [*names["to"], *names["from"]]))
    give_up = time.monotonic() + max(10 * limits.interval, limits.interval + 60)
    while True:
        time.sleep(min(1.0, max(0.2, limits.interval / 4)))
        verdict, envoys = window.judge(dataclasses.replace(limits, max_p99=None))
        ctx.progress.numbers(state, window.elapsed(), envoys)
        ensure_unchanged(ctx, state)
        if verdict.state == FAIL:
            return verdict, envoys
        if window.elapsed() >= limits.interval and verdict.state != WAIT:
            verdict, envoys = window.judge(limits, cover=limits.max_p99 is not None)
            if verdict.state in (PASS, FAIL):
                return verdict, envoys
            if verdict.state == HOLD:
                ctx.progress.event(f"{step_text(state)}: held ({'; '.join(verdict.reasons)})")
                window.restart()
        if time.monotonic() > give_up:
            raise Timeout(f"{step_text(state)} could not be judged: "
                          f"{'; '.join(verdict.reasons)}", hint=resume_hint(ctx))


class Window:
    """The readings a step is judged on: a start, the latest, and (for latency) a later
    reading whose histograms hold the latest's requests."""

    def __init__(self, ctx: Context, names: dict[str, list[str]], start: dict[str, Any]) -> None:
        self.ctx, self.names, self.start = ctx, names, start
        self.began = time.monotonic()
        self.end = start

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def restart(self) -> None:
        self.start, self.began = self.end, time.monotonic()

    def judge(self, limits: Any, *, cover: bool = False) -> tuple[Verdict, dict[str, Verdict]]:
        from kubectl_contour.queries.rollout_gate import judge_envoys

        every = [*self.names["to"], *self.names["from"]]
        if not cover:
            self.end = read_stats(self.ctx, every)
        later = self.covering(every) if cover else self.end
        return judge_envoys(self.start, self.end, later, self.names, limits)

    def covering(self, every: list[str]) -> dict[str, Any]:
        from kubectl_contour.queries.rollout_gate import covered_since

        deadline = time.monotonic() + COVER_WAIT
        while True:
            later = read_stats(self.ctx, every)
            if covered_since(self.end, later) or time.monotonic() >= deadline:
                return later
            time.sleep(0.25)
