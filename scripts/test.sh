#!/usr/bin/env bash
# Install everything (a venv in .venv, the package with its test extra, the envtest control
# plane) and run every test. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# an editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE (set on these
# machines) every spawned controller would compile every module again: ~0.2-0.4 s of CPU
# per process start, measured (BENCHMARKS.md "contour serve start from YAML")
.venv/bin/python -m compileall -q controller kubectl_contour bench >/dev/null
if [ -x scripts/envtest.sh ] || [ -f scripts/envtest.sh ]; then
  bash scripts/envtest.sh   # kube-apiserver + etcd from pinned Go modules, cached after the first build
fi
# the Gateway API CRDs in manifests/ are the pinned module's (downloaded into the Go module
# cache once): stale ones fail here, and the staleness test then runs instead of skipping
bash scripts/gateway-api-crds.sh --check
# the node tests' parts (tests/node): kubelet, kube-controller-manager, kube-scheduler,
# kube-proxy from the same pinned module, the pause image, and containerd, runc, CNI,
# iptables, mmdebstrap from Debian (apt-get when missing; a failure stops here, loudly)
bash scripts/node-build.sh
# upstream Contour v1.33.8 for tests/bench/test_peer_smoke.py (a bench dependency only):
# ~3 min cold on 2 cores, cached after in ~/.cache/kubectl-contour/upstream-contour
bash scripts/upstream-contour.sh >/dev/null
# real zsh and fish for the completion tests (tests/kubectl_contour/test_completion_shells.py):
# installed when missing; a machine where that is impossible fails here, loudly
missing=$(for sh in zsh fish; do command -v "$sh" >/dev/null || echo "$sh"; done)
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  # shellcheck disable=SC2086 # one word per missing shell
  if ! command -v apt-get >/dev/null || ! { $sudo apt-get update -qq &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; }; then
    echo "scripts/test.sh: cannot install $(echo $missing) with apt-get; the completion" \
         "tests need real zsh and fish: install them and run again" >&2
    exit 1
  fi
fi
.venv/bin/ruff check controller kubectl_contour tests bench
.venv/bin/mypy
exec .venv/bin/pytest -q "$@"
