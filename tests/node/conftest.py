"""Fixtures for the tests on a real single-node cluster (scripts/node.sh) and its images
(scripts/image.sh). This folder's helpers (nodekit, hoststate, deployed) are importable by
name, like tests/cluster's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
