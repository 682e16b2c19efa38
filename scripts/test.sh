#!/usr/bin/env bash
# Install everything (a venv in .venv, the package with its test extra, the envtest control
# plane) and run every test. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
if [ -x scripts/envtest.sh ] || [ -f scripts/envtest.sh ]; then
  bash scripts/envtest.sh   # kube-apiserver + etcd from pinned Go modules, cached after the first build
fi
.venv/bin/ruff check controller kubectl_contour tests bench
.venv/bin/mypy
exec .venv/bin/pytest -q "$@"
