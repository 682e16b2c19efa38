"""Pure functions: objects (+ the builder's DAG) → view models. No I/O, no printing."""
