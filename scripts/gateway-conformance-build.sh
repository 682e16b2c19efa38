#!/usr/bin/env bash
# Build the Gateway API conformance suite's test binary (`go test -c` of
# sigs.k8s.io/gateway-api/conformance at the pinned version) once, into a cache folder keyed
# by that version; reuse it after. Nothing upstream is copied into the repository: the suite
# comes from the Go module proxy into a temporary module that only requires it.
#
#   scripts/gateway-conformance-build.sh               build if missing, print the binary last
#   scripts/gateway-conformance-build.sh --print       print the binary's path only (no build)
#   scripts/gateway-conformance-build.sh --version     print the pinned version
#   scripts/gateway-conformance-build.sh --module-dir  the conformance module's source (for its
#                                                      base manifests and grpcecho.proto)
#   scripts/gateway-conformance-build.sh --crds        the CRDs folder of sigs.k8s.io/gateway-api
#                                                      at the same version (standard/, experimental/)
#
# Environment: GATEWAY_API_VERSION (override the pin), GO, PYTHON.
set -euo pipefail

VERSION="${GATEWAY_API_VERSION:-v1.6.3}"
SUITE_MODULE=sigs.k8s.io/gateway-api/conformance
API_MODULE=sigs.k8s.io/gateway-api
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-contour/conformance"
VERSION_DIR="${CACHE_ROOT}/gateway-api-${VERSION}"
BINARY="${VERSION_DIR}/bin/conformance.test"

log() { printf '[conformance-build] %s\n' "$*" >&2; }
die() { printf '[conformance-build] ERROR: %s\n' "$*" >&2; exit 1; }

find_go() {  # GO, else go on PATH, else the usual install place
  GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
  [[ -x "${GO}" ]] || die "no Go toolchain found (set GO=/path/to/go)"
}

module_dir() {  # module_dir MODULE: its source folder in the module cache (downloaded if needed)
  find_go
  (cd "${CACHE_ROOT}" && GOFLAGS=-mod=mod "${GO}" mod download -json "$1@${VERSION}") \
    | "${PYTHON:-python3}" -c 'import json,sys; d=json.load(sys.stdin); e=d.get("Error")
sys.exit("go mod download: " + e) if e else print(d["Dir"])' \
    || die "downloading $1@${VERSION} failed"
}

build() {
  find_go
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
  local dir="${VERSION_DIR}/build"
  rm -rf "${dir}"; mkdir -p "${dir}" "${VERSION_DIR}/bin"
  log "${SUITE_MODULE}@${VERSION}: preparing a module in ${dir} ($("${GO}" version))"
  (
    cd "${dir}"
    "${GO}" mod init conformance.local/gateway-api >/dev/null 2>&1
    "${GO}" mod edit -require="${SUITE_MODULE}@${VERSION}" -require="${API_MODULE}@${VERSION}"
    # a blank import makes the suite's test dependencies part of this module's graph
    printf 'package tools\n\nimport _ "%s"\n' "${SUITE_MODULE}" >tools.go
    "${GO}" mod tidy >/dev/null 2>&1 || "${GO}" mod download all
    log "${SUITE_MODULE}@${VERSION}: go test -c (a few minutes on 2 cores, cached after)"
    "${GO}" test -c -trimpath -ldflags="-s -w" -o "${BINARY}.tmp" "${SUITE_MODULE}"
  ) || die "building the conformance suite failed (see output above)"
  mv -f "${BINARY}.tmp" "${BINARY}"
}

main() {
  mkdir -p "${CACHE_ROOT}"
  case "${1:-}" in
    --print) echo "${BINARY}"; return ;;
    --version) echo "${VERSION}"; return ;;
    --module-dir) module_dir "${SUITE_MODULE}"; return ;;
    --crds) echo "$(module_dir "${API_MODULE}")/config/crd"; return ;;
    "") ;;
    *) die "unknown option $1" ;;
  esac
  if [[ -x "${BINARY}" ]]; then
    log "suite ${VERSION} present: ${BINARY}"; echo "${BINARY}"; return
  fi
  local start; start=$(date +%s)
  build
  "${BINARY}" -test.list 'TestConformance' >/dev/null || die "${BINARY} does not run"
  log "built in $(( $(date +%s) - start ))s: ${BINARY}"
  echo "${BINARY}"
}

main "$@"
