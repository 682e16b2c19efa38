"""The hostile-input fuzzer of issue 7: generators of valid objects, their mutations with
the verdict each deserves, file-level hostile documents, and the invariant checkers run
against `contour serve --source-dir` and a real Envoy (tests/e2e/harness).

Import as `fuzzing.*` with tests/fuzz on sys.path (pytest's conftest, or bench/fuzz.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# the e2e harness is imported as `harness`, as tests/cluster/clusterkit.py does
_E2E = str(ROOT / "tests" / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)
