"""The cyclic GC paused while a source reads its initial objects.

perf (bench/): reading 10k objects per kind allocates only live, acyclic data, yet it set
off ~20 collections (~0.3 s with the GIL held, on the cold start's critical path) in the
cluster source's lists, and 7 (~0.1-0.3 s) in the folder source's first scan of 30k YAML
documents. The pipeline pauses it per batch (events.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable


def pause_gc() -> Callable[..., None]:
    """Turn the cyclic GC off; returns the (idempotent) resume.

    `resume(freeze=True)` (after the initial read) gc.freeze()s first: what was read lives
    as long as the process, as the first full build assumes (app.py freezes then too);
    without it, the first allocation after enabling runs one gen-0 pass over all of it
    (measured: 160 ms at 10k objects per kind)."""
    if not gc.isenabled():
        return lambda freeze=False: None
    gc.disable()
    done = False

    def resume(freeze: bool = False) -> None:
        nonlocal done
        if not done:
            done = True
            if freeze:
                gc.freeze()
            gc.enable()

    return resume
