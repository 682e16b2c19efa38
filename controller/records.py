"""`record`: the immutable value classes built in bulk (10k+ per cold start).

A `record` class is, for the type checker, a frozen dataclass: mypy refuses any assignment
to a field (`typing.dataclass_transform(frozen_default=True)`), as it does for
`@dataclass(frozen=True, slots=True)`. At run time it is a slots dataclass with the same
`__eq__` and `__hash__` (over the fields that compare) but a plain `__init__`: a frozen
dataclass sets each field through `object.__setattr__`, ~0.3 µs a field here, against
~0.03 µs for a plain slot store. Its cold start builds ~2.4 M fields at 10k HTTPProxy roots
(ObjectEvent, views, Route, Cluster, statuses; counted with sys.setprofile), which was
~12 % of the CPU (py-spy) before these classes were records (BENCHMARKS.md "HTTPProxy
cold build").

Use it for what a cold start builds per object; keep `@dataclass(frozen=True, slots=True)`
elsewhere (the runtime guard costs nothing there).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: type[T]) -> type[T]:
    """`cls` as a slots dataclass, hashable like a frozen one (see the module docstring)."""
    return dataclasses.dataclass(slots=True, unsafe_hash=True)(cls)
