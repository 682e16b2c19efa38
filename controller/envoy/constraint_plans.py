"""Rule plans: per message type, one Python function that checks a message of that type,
generated once from the type's descriptor (its fields' `validate.rules` options, compiled by
controller/envoy/pgv_rules.py) and cached.

perf: a generic interpreter over the rules made ~90 Python calls per ClusterLoadAssignment
(13 µs); the generated functions read fields directly, inline the walk and call only the
value checks and the functions of sub-messages (bench/bench_constraints.py). Only fields
whose subtree carries a rule are read. A type with few checked fields reads each of them
(`msg.field`, ~50 ns); a type with many (Cluster, RouteAction) reads its set fields with one
ListFields() and dispatches on the field.

A function takes (message, loc, out): `loc` is the message's path as a linked tuple
(parent, segment), rendered only when a rule fails; violations are appended to `out`.

A sub-message's function is generated when a message of that type is first walked, not
with its parent's: a Cluster's subtree holds ~200 checked types, of which a cold start
meets a few dozen (perf: generating all of them was ~0.07 s of a 10k cold start). The
parent's function calls a stub in its namespace that generates the check and takes its
place there, so later calls go straight to it.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory, symbol_database
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from validate import validate_pb2 as pgv

from controller.envoy.pgv_rules import count_check, value_check

Out = list[str]
Loc = tuple[Any, ...] | None
Run = Callable[[Message, Loc, Out], None]
DIRECT_MAX_FIELDS = 8
WRAPPERS = frozenset(f"google.protobuf.{t}Value" for t in (
    "Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"))
ANY = "google.protobuf.Any"
ANY_VERDICTS_MAX = 4096


def render(loc: Loc) -> str:
    """`a.b[0].c`: a segment is a field name, an index, or a `[..]`/`(..)` suffix."""
    parts: list[str] = []
    while loc is not None:
        loc, segment = loc
        parts.append(f"[{segment}]" if isinstance(segment, int) else segment)
    text = ""
    for part in reversed(parts):
        text += part if not text or part[0] in "[(" else "." + part
    return text


def fail(loc: Loc, reason: str, out: Out) -> None:
    out.append(f"{render(loc)}: {reason}")


@dataclass(slots=True)
class _Plan:
    run: Run | None = None  # None while its function is being generated (types are cyclic)


class Planner:
    """Generates and caches the check of each message type. `hooks` (by full type name) are
    the checks Envoy makes beyond PGV; each runs after the type's rules."""

    def __init__(self, hooks: Mapping[str, Run]) -> None:
        self._hooks = hooks
        self._plans: dict[Descriptor, _Plan] = {}
        self._has_rules: dict[Descriptor, bool] = {}
        self._payloads: dict[str, tuple[type[Message], str] | None] = {}
        self._any_verdicts: dict[tuple[str, bytes], tuple[str, ...]] = {}

    def forget(self) -> None:
        """Drop the verdicts kept by payload bytes (they may be of removed objects)."""
        self._any_verdicts.clear()

    def walker(self, desc: Descriptor) -> Run:
        """The check of messages of type `desc`."""
        if desc.full_name == ANY:
            return self._any_walk
        plan = self._plans.get(desc)
        if plan is None:
            plan = self._plans[desc] = _Plan()
            plan.run = _Source(self, desc).compile()
        if plan.run is not None:
            return plan.run
        return lambda msg, loc, out: plan.run(msg, loc, out)  # type: ignore[misc]

    # -- which subtrees carry rules ------------------------------------------------------------

    def has_rules(self, desc: Descriptor) -> bool:
        """Whether any rule applies within `desc`'s subtree; computed for the whole graph
        reachable from it at once (types refer to each other in cycles)."""
        known = self._has_rules.get(desc)
        if known is not None:
            return known
        children: dict[Descriptor, list[Descriptor]] = {}
        result: dict[Descriptor, bool] = {}
        stack = [desc]
        while stack:
            d = stack.pop()
            if d in children or d in self._has_rules:
                continue
            result[d] = self._own_rules(d)
            children[d] = [] if disabled(d) else [f.message_type for f in d.fields
                                                  if f.message_type is not None]
            stack.extend(children[d])
        changed = True
        while changed:
            changed = False
            for d, kids in children.items():
                if not result[d] and any(result.get(k) or self._has_rules.get(k) for k in kids):
                    result[d] = changed = True
        self._has_rules.update(result)
        return result[desc]

    def _own_rules(self, desc: Descriptor) -> bool:
        if disabled(desc):
            return False
        if desc.full_name == ANY or desc.full_name in self._hooks:
            return True
        if any(oneof_required(o) for o in desc.oneofs):
            return True
        return any((r := rules_of(fd)) is not None and r.ListFields() for fd in desc.fields)

    def hook(self, desc: Descriptor) -> Run | None:
        return self._hooks.get(desc.full_name)

    # -- Any payloads --------------------------------------------------------------------------

    def _any_walk(self, value: Any, loc: Loc, out: Out) -> None:
        """An Any is checked as the message it carries (`typed_config(HttpConnectionManager)
        .x`); a type this process does not know is left to Envoy. perf: verdicts are kept by
        payload bytes, since most payloads (every filter chain's connection manager) repeat."""
        key = (value.type_url, value.value)
        verdict = self._any_verdicts.get(key)
        if verdict is None:
            if len(self._any_verdicts) >= ANY_VERDICTS_MAX:
                self._any_verdicts.clear()
            verdict = self._any_verdicts[key] = self._payload_violations(*key)
        if verdict:
            where = render(loc)
            out.extend(where + found for found in verdict)

    def _payload_violations(self, type_url: str, payload: bytes) -> tuple[str, ...]:
        """The violations of an Any's payload, as suffixes of the Any's own path."""
        found = self._payload_type(type_url)
        if found is None:
            return ()
        message_class, short = found
        try:
            message = message_class.FromString(payload)
        except DecodeError:
            return (f": cannot be decoded as {short}",)
        out: Out = []
        self.walker(message.DESCRIPTOR)(message, (None, f"({short})"), out)
        return tuple(out)

    def _payload_type(self, type_url: str) -> tuple[type[Message], str] | None:
        if type_url not in self._payloads:
            try:
                desc = symbol_database.Default().pool.FindMessageTypeByName(
                    type_url.rpartition("/")[2])
            except KeyError:
                self._payloads[type_url] = None
            else:
                self._payloads[type_url] = (message_factory.GetMessageClass(desc), desc.name)
        return self._payloads[type_url]


def rules_of(fd: FieldDescriptor) -> pgv.FieldRules | None:
    options = fd.GetOptions()
    return options.Extensions[pgv.rules] if options.HasExtension(pgv.rules) else None


def disabled(desc: Descriptor) -> bool:
    options = desc.GetOptions()
    return any(options.HasExtension(e) and options.Extensions[e]
               for e in (pgv.disabled, pgv.ignored))


def oneof_required(oneof: Any) -> bool:
    options = oneof.GetOptions()
    return bool(options.HasExtension(pgv.required) and options.Extensions[pgv.required])


def is_map(fd: FieldDescriptor) -> bool:
    return fd.message_type is not None and fd.message_type.GetOptions().map_entry


def unset_reason(fd: FieldDescriptor, rules: pgv.FieldRules | None) -> str | None:
    """Why an unset field breaks its rules (a proto3 scalar is checked at its default);
    None when unset is fine. Oneof members (and proto3 `optional`) are checked only when set."""
    if rules is None or fd.containing_oneof is not None:
        return None
    if fd.is_repeated:
        kind, low = ("map", "min_pairs") if is_map(fd) else ("repeated", "min_items")
        typed = getattr(rules, kind)
        if typed.ignore_empty or not getattr(typed, low):
            return None
        check = count_check(typed, low, "max_" + low[4:], low[4:])
        return check(()) if check is not None else None
    if fd.message_type is not None:
        kind = rules.WhichOneof("type")
        required = rules.message.required or (
            kind in ("duration", "timestamp", "any") and getattr(rules, kind).required)
        return "is required" if required else None
    check = value_check(rules, fd.enum_type)
    return check(fd.default_value) if check is not None else None


class _Source:
    """The generated source of one type's check, and the constants it refers to."""

    def __init__(self, planner: Planner, desc: Descriptor) -> None:
        self.planner, self.desc = planner, desc
        self.ns: dict[str, Any] = {"fail": fail}
        self.lines: list[str] = []

    def const(self, value: Any) -> str:
        name = f"k{len(self.ns)}"
        self.ns[name] = value
        return name

    def compile(self) -> Run:
        hook = self.planner.hook(self.desc)
        fields = [] if disabled(self.desc) else self._checked_fields()
        oneofs = [] if disabled(self.desc) else [
            o for o in self.desc.oneofs if oneof_required(o)]
        if not fields and not oneofs:
            return hook if hook is not None else _nothing
        if len(fields) <= DIRECT_MAX_FIELDS:
            self._direct(fields, oneofs)
        else:
            self._dispatch(fields, oneofs)
        if hook is not None:
            self.lines.append(f"    {self.const(hook)}(msg, loc, out)")
        source = "def run(msg, loc, out):\n" + "\n".join(self.lines) + "\n"
        exec(compile(source, f"<constraints {self.desc.full_name}>", "exec"), self.ns)  # noqa: S102
        run: Run = self.ns["run"]
        return run

    def _checked_fields(self) -> list[tuple[FieldDescriptor, list[str] | None, str | None]]:
        """(field, body checking its value `v`, reason when unset) for every field with a
        rule in its subtree or a rule on being unset."""
        out = []
        for fd in self.desc.fields:
            rules = rules_of(fd)
            body = self._body(fd, rules)
            reason = unset_reason(fd, rules)
            if body is not None or reason is not None:
                out.append((fd, body, reason))
        return out

    # -- the value of one field ------------------------------------------------------------------

    def _body(self, fd: FieldDescriptor, rules: pgv.FieldRules | None) -> list[str] | None:
        """Lines checking `v`, the (present) value of `fd` in `msg` at `loc`."""
        here = f"(loc, {fd.name!r})"
        if is_map(fd):
            check = _map_check(self.planner, fd, rules)
            return None if check is None else [f"{self.const(check)}(v, {here}, out)"]
        item_rules = rules.repeated.items if rules is not None and fd.is_repeated else rules
        item = self._value(fd, item_rules, "x" if fd.is_repeated else "v",
                           "(here, i)" if fd.is_repeated else here)
        if not fd.is_repeated:
            return item
        count = count_check(rules.repeated, "min_items", "max_items", "items") if rules else None
        if count is None and item is None:
            return None
        lines = [f"here = {here}"]
        if count is not None:
            lines += [f"r = {self.const(count)}(v)", "if r is not None: fail(here, r, out)"]
        if item is not None:
            lines += ["for i, x in enumerate(v):", *("    " + line for line in item)]
        return lines

    def _value(self, fd: FieldDescriptor, rules: pgv.FieldRules | None, v: str,
               at: str) -> list[str] | None:
        """Lines checking one value `v` of `fd`'s type at `at`: its rules (on the `value`
        of a wrapper), then its subtree."""
        check = value_check(rules, fd.enum_type) if rules is not None else None
        sub = fd.message_type
        walk = None
        if sub is not None and not (rules is not None and rules.message.skip):
            walk = self.walker_const(sub) if self.planner.has_rules(sub) else None
        lines = []
        if check is not None:
            inner = f"{v}.value" if sub is not None and sub.full_name in WRAPPERS else v
            lines += [f"r = {self.const(check)}({inner})", f"if r is not None: fail({at}, r, out)"]
        if walk is not None:
            lines.append(f"{walk}({v}, {at}, out)")
        return lines or None

    def walker_const(self, sub: Descriptor) -> str:
        """The name, in this source's namespace, of `sub`'s check: a stub until the first
        call, which generates the check and puts it in the stub's place (module docstring)."""
        name = f"k{len(self.ns)}"
        ns, planner = self.ns, self.planner

        def first(msg: Message, loc: Loc, out: Out) -> None:
            run = ns[name] = planner.walker(sub)
            run(msg, loc, out)

        ns[name] = first
        return name

    # -- reading the fields ------------------------------------------------------------------

    def _direct(self, fields: list[tuple[FieldDescriptor, list[str] | None, str | None]],
                oneofs: list[Any]) -> None:
        """Read every checked field: perf for types with few of them."""
        members: dict[str, list[tuple[FieldDescriptor, list[str]]]] = {o.name: [] for o in oneofs}
        for fd, body, reason in fields:
            oneof = fd.containing_oneof
            if oneof is not None and oneof.name != "_" + fd.name:  # a real oneof
                if body is not None:
                    members.setdefault(oneof.name, []).append((fd, body))
                continue
            self._read(fd, body, reason)
        required = {o.name for o in oneofs}
        for name, present in members.items():
            self._read_oneof(name, present, name in required)

    def _read(self, fd: FieldDescriptor, body: list[str] | None, reason: str | None) -> None:
        get = _getter(fd.name)
        add = self.lines.append
        if fd.is_repeated:
            add(f"    v = {get}")
            test = "if len(v):"
        elif fd.message_type is not None or fd.containing_oneof is not None:
            test = f"if msg.HasField({fd.name!r}):"
            body = [f"v = {get}", *(body or [])]
        elif reason is not None:  # a scalar whose default breaks a rule: always checked
            add(f"    v = {get}")
            self.lines.extend("    " + line for line in body or [])
            return
        else:
            add(f"    v = {get}")
            test = f"if v != {self.const(fd.default_value)}:"
        add("    " + test)
        self.lines.extend("        " + line for line in body or ["pass"])
        if reason is not None:
            add(f"    else: fail((loc, {fd.name!r}), {reason!r}, out)")

    def _read_oneof(self, name: str, members: list[tuple[FieldDescriptor, list[str]]],
                    required: bool) -> None:
        add = self.lines.append
        add(f"    w = msg.WhichOneof({name!r})")
        if required:
            add(f"    if w is None: fail((loc, {name!r}), 'one of its fields must be set', out)")
        for fd, body in members:
            add(f"    if w == {fd.name!r}:")
            add(f"        v = {_getter(fd.name)}")
            self.lines.extend("        " + line for line in body)

    def _dispatch(self, fields: list[tuple[FieldDescriptor, list[str] | None, str | None]],
                  oneofs: list[Any]) -> None:
        """One ListFields() and a function per set field: perf for types with many fields."""
        table: dict[FieldDescriptor, Callable[[Any, Loc, Out], int]] = {}
        required = tuple((fd, reason) for fd, _, reason in fields if reason is not None)
        for fd, body, reason in fields:
            lines = ["def f(v, loc, out):", *("    " + line for line in body or []),
                     f"    return {int(reason is not None)}"]
            exec("\n".join(lines), self.ns)  # noqa: S102 - shares the stubs' namespace
            table[fd] = self.ns.pop("f")
        add = self.lines.append
        add(f"    seen = 0\n    table = {self.const(table)}")
        add("    for fd, v in msg.ListFields():\n        f = table.get(fd)")
        add("        if f is not None: seen += f(v, loc, out)")
        if required:
            add(f"    if seen < {len(required)}: {self.const(_missing)}(msg, "
                f"{self.const(required)}, loc, out)")
        for oneof in oneofs:
            add(f"    if msg.WhichOneof({oneof.name!r}) is None: "
                f"fail((loc, {oneof.name!r}), 'one of its fields must be set', out)")


def _getter(name: str) -> str:
    return f"getattr(msg, {name!r})" if keyword.iskeyword(name) else f"msg.{name}"


def _missing(msg: Message, required: tuple[tuple[FieldDescriptor, str], ...], loc: Loc,
             out: Out) -> None:
    present = {fd for fd, _ in msg.ListFields()}
    for fd, reason in required:
        if fd not in present:
            fail((loc, fd.name), reason, out)


def _nothing(msg: Message, loc: Loc, out: Out) -> None:
    return None


def _map_check(planner: Planner, fd: FieldDescriptor,
               rules: pgv.FieldRules | None) -> Callable[[Any, Loc, Out], None] | None:
    """A map's pair count, keys and values (rare: not worth generating)."""
    value_fd = fd.message_type.fields_by_name["value"]
    count = count_check(rules.map, "min_pairs", "max_pairs", "pairs") if rules else None
    key = value_check(rules.map.keys) if rules is not None and rules.map.HasField("keys") else None
    value_rules = rules.map.values if rules is not None and rules.map.HasField("values") else None
    value = value_check(value_rules, value_fd.enum_type) if value_rules is not None else None
    sub = value_fd.message_type
    walk = _lazy(planner, sub) if sub is not None and planner.has_rules(sub) else None
    wrapper = sub is not None and sub.full_name in WRAPPERS
    if count is None and key is None and value is None and walk is None:
        return None

    def check(values: Any, here: Loc, out: Out) -> None:
        if count is not None and (reason := count(values)) is not None:
            fail(here, reason, out)
        for k in sorted(values):
            at = (here, f"[{k!r}]")
            if key is not None and (reason := key(k)) is not None:
                fail(at, f"key: {reason}", out)
            item = values[k]
            if value is not None and (reason := value(item.value if wrapper else item)):
                fail(at, reason, out)
            if walk is not None:
                walk(item, at, out)

    return check


def _lazy(planner: Planner, desc: Descriptor) -> Run:
    """`desc`'s check, generated at the first call (maps' values: rare, no stub to replace)."""
    def run(msg: Message, loc: Loc, out: Out) -> None:
        planner.walker(desc)(msg, loc, out)
    return run
