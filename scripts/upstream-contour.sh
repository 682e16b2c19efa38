#!/usr/bin/env bash
# Build upstream Contour (the Go project this one rebuilds) from its Go module, once, into
# a cache folder; reuse it after. A bench dependency only (`python -m bench.bench peer`
# and its smoke test): nothing in controller/ or kubectl_contour/ runs it.
#
#   scripts/upstream-contour.sh            build if missing, print the binary's path last
#   scripts/upstream-contour.sh --print    print the binary's path only (no build)
#   scripts/upstream-contour.sh --print-crds   print the path of the release's CRDs
#
# The module is fetched through the Go module proxy (`go install module@version`: its
# go.mod has no replace directives, so no wrapper module is needed). Nothing of it is
# copied into this repository; the build tags and -X version flags are its Makefile's.
#
# Environment:
#   UPSTREAM_CONTOUR_VERSION  override the pin
#   UPSTREAM_CONTOUR_BIN_DIR  where the binary goes (default: cache folder below)
#   GO                        go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

VERSION="${UPSTREAM_CONTOUR_VERSION:-v1.33.8}"
MODULE=github.com/projectcontour/contour
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-contour/upstream-contour"
BIN_DIR="${UPSTREAM_CONTOUR_BIN_DIR:-${CACHE_ROOT}/${VERSION}/bin}"
BIN="${BIN_DIR}/contour"
CRDS="${BIN_DIR}/01-crds.yaml"

log() { printf '[upstream-contour] %s\n' "$*" >&2; }
die() { printf '[upstream-contour] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print" ]]; then
  echo "${BIN}"
  exit 0
fi

if [[ "${1:-}" == "--print-crds" ]]; then
  echo "${CRDS}"
  exit 0
fi

# `contour version` prints (on stderr) the version the build was stamped with (-X below): a cached
# binary of another pin (or a half-written one) is rebuilt rather than trusted. The CRDs
# of the same release go next to it (the bench installs them; they stay out of the repo).
if [[ -x "${BIN}" && -s "${CRDS}" ]] && "${BIN}" version 2>&1 | grep -qx "version: ${VERSION}"; then
  log "present: ${BIN} (${VERSION})"
  echo "${BIN}"
  exit 0
fi

GO="${GO:-}"
if [[ -z "${GO}" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain found (set GO=/path/to/go)"; fi
fi

# CGO off and the netgo/osusergo tags: a static binary, as upstream ships it.
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
log "using $("${GO}" version); building ${MODULE}/cmd/contour@${VERSION} (a few minutes on 2 cores)"
START=$(date +%s)
mkdir -p "${BIN_DIR}"
TMP_BIN="$(mktemp -d "${BIN_DIR}/.build.XXXXXX")"
trap 'rm -rf "${TMP_BIN}"' EXIT
LDFLAGS="-s -w -X ${MODULE}/internal/build.Version=${VERSION}"
LDFLAGS+=" -X ${MODULE}/internal/build.Branch=release-${VERSION}"
GOBIN="${TMP_BIN}" "${GO}" install -trimpath -tags "oidc gcp osusergo netgo" \
  -ldflags="${LDFLAGS}" "${MODULE}/cmd/contour@${VERSION}" \
  || die "go install ${MODULE}/cmd/contour@${VERSION} failed (see output above)"
MOD_DIR="$("${GO}" list -m -f '{{.Dir}}' "${MODULE}@${VERSION}")"
[[ -s "${MOD_DIR}/examples/contour/01-crds.yaml" ]] || die "no CRDs in ${MOD_DIR}"
cp -f "${MOD_DIR}/examples/contour/01-crds.yaml" "${CRDS}.tmp"
mv -f "${CRDS}.tmp" "${CRDS}"
mv -f "${TMP_BIN}/contour" "${BIN}"
"${BIN}" version >&2 || die "${BIN} does not run"
log "done in $(( $(date +%s) - START ))s: ${BIN}"
echo "${BIN}"
