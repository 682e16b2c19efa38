#!/usr/bin/env bash
# Build the control-plane binaries the cluster tests need (kube-apiserver and
# etcd) from their Go modules, once, into a cache folder; reuse them after.
#
#   scripts/envtest.sh            build if missing, print the bin dir last
#   scripts/envtest.sh --print    print the bin dir only (no build)
#
# Versions are pinned below; bumping Kubernetes is a one-line change: the
# `replace` directives for its staging modules (k8s.io/api, ... required at
# v0.0.0 and replaced by ./staging/... in its own go.mod) are generated from
# the pinned module's go.mod and mapped to their published v0.<minor>.<patch>.
#
# Environment:
#   ENVTEST_BIN_DIR   where the binaries go (default: cache folder below)
#   ENVTEST_K8S_VERSION / ENVTEST_ETCD_VERSION  override the pins
#   GO                go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-v3.6.16}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-contour/envtest"
VERSION_DIR="${CACHE_ROOT}/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
BIN_DIR="${ENVTEST_BIN_DIR:-${VERSION_DIR}/bin}"

log() { printf '[envtest] %s\n' "$*" >&2; }
die() { printf '[envtest] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print" ]]; then
  echo "${BIN_DIR}"
  exit 0
fi

if [[ -x "${BIN_DIR}/kube-apiserver" && -x "${BIN_DIR}/etcd" ]]; then
  log "binaries present in ${BIN_DIR} (kube-apiserver ${K8S_VERSION}, etcd ${ETCD_VERSION})"
  echo "${BIN_DIR}"
  exit 0
fi

GO="${GO:-}"
if [[ -z "${GO}" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain found (set GO=/path/to/go)"; fi
fi
PYTHON="${PYTHON:-python3}"
command -v "${PYTHON}" >/dev/null 2>&1 || die "python3 is needed to read go.mod JSON (set PYTHON=...)"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
log "using $("${GO}" version)"

BUILD_ROOT="${VERSION_DIR}/build"
mkdir -p "${BIN_DIR}" "${BUILD_ROOT}"
START=$(date +%s)

# ---------------------------------------------------------------- etcd
build_etcd() {
  local dir="${BUILD_ROOT}/etcd"
  rm -rf "${dir}"; mkdir -p "${dir}"
  log "etcd ${ETCD_VERSION}: preparing module in ${dir}"
  (
    cd "${dir}"
    "${GO}" mod init envtest.local/etcd >/dev/null 2>&1
    "${GO}" mod edit -require="go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
    # etcd's own go.mod replaces its sibling modules with ../ paths, which are
    # ignored for a dependency: pin them to the same published version.
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
      "${GO}" mod edit -require="go.etcd.io/etcd/${m}@${ETCD_VERSION}"
    done
    log "etcd ${ETCD_VERSION}: building (this takes a few minutes)"
    "${GO}" build -trimpath -ldflags="-s -w" -o "${BIN_DIR}/etcd.tmp" go.etcd.io/etcd/server/v3
  ) || return 1
  mv -f "${BIN_DIR}/etcd.tmp" "${BIN_DIR}/etcd"
  log "etcd ${ETCD_VERSION}: built ${BIN_DIR}/etcd"
}

# ---------------------------------------------------------- kube-apiserver
# shellcheck source=scripts/k8s-module.sh
source "$(dirname "${BASH_SOURCE[0]}")/k8s-module.sh"
build_apiserver() {
  local dir="${BUILD_ROOT}/kube-apiserver"
  log "kube-apiserver ${K8S_VERSION}: downloading k8s.io/kubernetes (large)"
  k8s_prepare_module "${dir}" envtest.local/kube-apiserver "${K8S_VERSION}" || return 1
  log "kube-apiserver ${K8S_VERSION}: building (CPU heavy, ~10-20 min on 2 cores)"
  (cd "${dir}" && "${GO}" build -trimpath -ldflags="$(k8s_ldflags "${K8S_VERSION}")" \
      -o "${BIN_DIR}/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver) || return 1
  mv -f "${BIN_DIR}/kube-apiserver.tmp" "${BIN_DIR}/kube-apiserver"
  log "kube-apiserver ${K8S_VERSION}: built ${BIN_DIR}/kube-apiserver"
}

if [[ ! -x "${BIN_DIR}/etcd" ]]; then
  build_etcd || die "building etcd ${ETCD_VERSION} failed (see output above)"
fi
if [[ ! -x "${BIN_DIR}/kube-apiserver" ]]; then
  build_apiserver || die "building kube-apiserver ${K8S_VERSION} failed (see output above)"
fi
"${BIN_DIR}/etcd" --version >/dev/null 2>&1 || die "${BIN_DIR}/etcd does not run"
"${BIN_DIR}/kube-apiserver" --version >&2 || die "${BIN_DIR}/kube-apiserver does not run"
log "done in $(( $(date +%s) - START ))s: ${BIN_DIR}"
echo "${BIN_DIR}"
