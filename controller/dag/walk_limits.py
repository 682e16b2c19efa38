"""The bounds of one root's walk through delegations (IngressRoute) and includes
(HTTPProxy): project limits against hostile graphs, the same for both kinds. Upstream has
none, so a lattice of diamonds takes it exponential time."""

MAX_DEPTH = 64
"""Levels below a root; deeper chains are refused (and Python's stack is safe)."""

MAX_VISITS = 10_000
"""Objects visited from one root; diamonds are walked once per path. A visit builds the
routes of the visited object, ~50 µs each for an IngressRoute: at 50,000 visits a hostile
lattice of ten-object files held the event loop (and every other vhost's change) 2.5 s,
in the fuzzer (seed 20261202, batch 22). 10,000 is far above what a real root delegates."""
