#!/usr/bin/env bash
# Run the official Gateway API conformance suite (pinned: scripts/gateway-conformance-build.sh)
# against this controller on a real node (scripts/node.sh), then tear the node down.
#
#   scripts/gateway-conformance.sh [--subset | --run NAMES] [--report DIR] [--keep]
#                                  [--accept-gatewayclass]
#
#   --subset      a fixed, fast list (SUBSET below: one test per feature area), for CI
#   --run NAMES   only these tests (comma-separated ShortNames, e.g.
#                 TLSRouteInvalidBackendRefNonexistent,HTTPRouteRequestMirror)
#   --report DIR  where the suite writes its report (default: docs/conformance/ for a full
#                 run; the run's own folder for --subset and --run)
#   --keep        leave the node up, and the suite's base resources on it (its folder is
#                 printed; `scripts/node.sh down DIR` ends it)
#   --accept-gatewayclass
#                 write Accepted=True on the GatewayClass's status from here, for proving the
#                 harness while no controller serves Gateway API (the suite's setup waits for
#                 it before it applies anything); never for a report that counts
#
# Steps: build (cached) the suite, the contour image and the echo image; start a node; import
# the images, the echo one under every echo-basic and coredns name the suite's manifests use;
# apply the Gateway API CRDs (manifests/ when it holds them, else the standard channel of the
# pinned module), manifests/ and the GatewayClass; run the suite inside the node's network
# namespace (Gateway addresses exist only there) for the GATEWAY-HTTP, GATEWAY-TLS and
# GATEWAY-GRPC profiles plus SUPPORTED_FEATURES; print the tally. Exit status: the suite's.
#
# Environment: GATEWAY_CLASS (contour), GATEWAY_CONTROLLER_NAME
# (projectcontour.io/gateway-controller), GATEWAY_SUPPORTED_FEATURES (overrides the list
# below), CONFORMANCE_WORKDIR (default: a new folder under /tmp; logs stay there).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/.." && pwd)"
GATEWAY_CLASS="${GATEWAY_CLASS:-contour}"
CONTROLLER_NAME="${GATEWAY_CONTROLLER_NAME:-projectcontour.io/gateway-controller}"
PROFILES=GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC
# extended features claimed (issue 13's model); the profiles' core features are implied
SUPPORTED_FEATURES="${GATEWAY_SUPPORTED_FEATURES:-HTTPRouteQueryParamMatching,HTTPRouteMethodMatching,HTTPRouteResponseHeaderModification,HTTPRoutePortRedirect,HTTPRouteSchemeRedirect,HTTPRoutePathRedirect,HTTPRouteHostRewrite,HTTPRoutePathRewrite,HTTPRouteRequestMirror,HTTPRouteRequestTimeout,HTTPRouteBackendTimeout,HTTPRouteParentRefPort}"
# one test per feature area: classes, gateways, routing, hostnames, matches, filters,
# weights, cross-namespace grants, HTTPS listeners, route status, gRPC, TLS passthrough,
# isolated Gateways, a TLSRoute without backends
SUBSET=(GatewayClassObservedGenerationBump GatewayWithAttachedRoutes HTTPRouteSimpleSameNamespace
  HTTPRouteHostnameIntersection HTTPRouteMatching HTTPRouteHeaderMatching
  HTTPRouteRequestHeaderModifier HTTPRouteWeight
  HTTPRouteReferenceGrant HTTPRouteHTTPSListener HTTPRouteInvalidCrossNamespaceBackendRef
  GRPCExactMethodMatching TLSRouteSimpleSameNamespace HTTPRouteMultipleGateways
  TLSRouteInvalidBackendRefNonexistent)

log() { printf '[conformance] %s\n' "$*" >&2; }
die() { printf '[conformance] ERROR: %s\n' "$*" >&2; exit 1; }

SUBSET_RUN=0 REPORT_DIR="" KEEP=0 ACCEPT=0 ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --subset) SUBSET_RUN=1 ;;
    --run) ONLY="${2:?--run NAMES}"; shift ;;
    --report) REPORT_DIR="${2:?--report DIR}"; shift ;;
    --keep) KEEP=1 ;;
    --accept-gatewayclass) ACCEPT=1 ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
  shift
done

WORK="${CONFORMANCE_WORKDIR:-$(mktemp -d /tmp/gateway-conformance.XXXXXX)}"
NODE="${WORK}/node"
mkdir -p "${WORK}"
kc() { KUBECONFIG="${NODE}/kubeconfig" kubectl "$@"; }
node_sh() { bash "${HERE}/node.sh" "$@"; }

teardown() {
  local rc=$?
  if [[ "${KEEP}" == 1 ]]; then log "node left up: ${NODE} (scripts/node.sh down ${NODE})"
  else node_sh down "${NODE}" || log "WARNING: node teardown failed (${NODE})"; fi
  log "logs in ${WORK}"
  exit "${rc}"
}

# The image names the suite's manifests (base and per test) run that our echo image stands for.
suite_images() {
  grep -rhoE 'image: *[^ ]+' "$1/base" "$1/tests" | sed 's/image: *//' | LC_ALL=C sort -u
}

build_images() {  # the contour and echo images (cached by their inputs), before the node runs
  CONTOUR_TAR="$(bash "${HERE}/image.sh" contour | tail -1)"
  ECHO_TAR="$(bash "${HERE}/image.sh" echo-conformance | tail -1)"
}

load_images() {  # load_images MODULE_DIR: contour, and the echo image under every suite name
  local ref ours; ours="$(bash "${HERE}/image.sh" --name echo-conformance)"
  node_sh load "${NODE}" "${CONTOUR_TAR}"
  node_sh load "${NODE}" "${ECHO_TAR}"
  for ref in $(suite_images "$1"); do
    case "${ref}" in
      */gateway-api/echo-basic:*|*/coredns/coredns:*) ;;
      *) die "the suite's manifests run ${ref}, which no image here stands for" ;;
    esac
    [[ "${ref}" == "${ours}" ]] && continue
    node_sh exec "${NODE}" ctr --address "${NODE}/containerd/containerd.sock" -n k8s.io \
      images tag --force "${ours}" "${ref}" >/dev/null || die "tagging ${ref} failed"
  done
}

apply_crds() {  # the Gateway API CRDs: manifests/ once it holds them, else the pinned module's
  if grep -lq 'name: gateways.gateway.networking.k8s.io' "${REPO}"/manifests/*.yaml 2>/dev/null; then
    log "Gateway API CRDs: from manifests/"
    return 0
  fi
  local crds f names=(); crds="$(bash "${HERE}/gateway-conformance-build.sh" --crds)"
  log "Gateway API CRDs: standard channel of the pinned module (${crds}/standard)"
  kc apply --server-side -f "${crds}/standard" >/dev/null
  for f in "${crds}"/standard/gateway.networking.k8s.io_*.yaml; do  # GROUP_PLURAL.yaml
    f="${f##*/}"; f="${f%.yaml}"
    [[ "${f}" == *_vap_* ]] || names+=("crd/${f#*_}.${f%%_*}")
  done
  # kubectl fails at once on a CRD whose status has no conditions yet (a moment after the
  # create on a loaded server): that one error is waited out (as ControlPlane.wait_established)
  local err tries=0
  until err="$(kc wait --for=condition=Established --timeout=60s "${names[@]}" 2>&1 >/dev/null)"; do
    if [[ "${err}" != *".status.conditions accessor error"* ]] || (( ++tries > 100 )); then
      echo "${err}" >&2; return 1
    fi
    sleep 0.2
  done
}

apply_gatewayclass() {
  kc apply -f - >/dev/null <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${GATEWAY_CLASS}
spec:
  controllerName: ${CONTROLLER_NAME}
EOF
  [[ "${ACCEPT}" == 1 ]] || return 0
  log "--accept-gatewayclass: writing Accepted=True on GatewayClass ${GATEWAY_CLASS} (harness proof only)"
  local now; now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  kc patch gatewayclass "${GATEWAY_CLASS}" --subresource=status --type=merge -p \
    "{\"status\":{\"conditions\":[{\"type\":\"Accepted\",\"status\":\"True\",\"reason\":\"Accepted\",\"message\":\"written by scripts/gateway-conformance.sh --accept-gatewayclass\",\"observedGeneration\":1,\"lastTransitionTime\":\"${now}\"}]}}" >/dev/null
}

run_suite() {  # run_suite BINARY REPORT: inside the node's namespaces; output to WORK/suite.log
  local run='^TestConformance$'
  if [[ "${SUBSET_RUN}" == 1 ]]; then run="^TestConformance$/($(IFS='|'; echo "${SUBSET[*]}"))\$"; fi
  if [[ -n "${ONLY}" ]]; then run="^TestConformance$/(${ONLY//,/|})\$"; fi
  local version; version="$(git -C "${REPO}" describe --always --dirty 2>/dev/null || echo unknown)"
  log "suite: profiles ${PROFILES}; $([[ "${SUBSET_RUN}" == 1 ]] && echo "subset of ${#SUBSET[@]} tests" || echo "${ONLY:-every test}")"
  set +e
  (cd "${WORK}" && node_sh exec "${NODE}" env KUBECONFIG="${NODE}/etc/node.kubeconfig" \
    "$1" -test.v -test.timeout=120m -test.run "${run}" \
    --gateway-class="${GATEWAY_CLASS}" --conformance-profiles="${PROFILES}" \
    --supported-features="${SUPPORTED_FEATURES}" --report-output="$2" \
    --organization=kubectl-contour --project=kubectl-contour --url="kubectl-contour (README.md)" \
    --version="${version}" --contact="kubectl-contour maintainers (README.md)" \
    --cleanup-base-resources="$([[ "${KEEP}" == 1 ]] && echo false || echo true)") \
    >"${WORK}/suite.log" 2>&1
  local rc=$?
  set -e
  tally "${WORK}/suite.log"
  return "${rc}"
}

tally() {  # the subtests' results, from go test -v's `--- PASS|FAIL|SKIP: TestConformance/NAME`
  local s
  for s in PASS FAIL SKIP; do
    printf '%s %s\n' "${s}" "$(grep -cE "^ *--- ${s}: TestConformance/[^/ ]+ " "$1" || true)"
  done | paste -sd' ' >&2
  grep -E "^ *--- FAIL: TestConformance/[^/ ]+ " "$1" | sed 's/^ */[conformance] failed: /' >&2 || true
  if ! grep -qE "^ *--- (PASS|FAIL): TestConformance/" "$1"; then  # the setup gave up: why
    grep -E "^[[:space:]]+Messages:" "$1" | tail -1 \
      | sed -E 's/^[[:space:]]+Messages:[[:space:]]*/[conformance] no test ran: /' >&2 || true
  fi
}

main() {
  [[ "$(id -u)" == 0 ]] || die "needs root (scripts/node.sh)"
  local start binary module report
  start=$(date +%s)
  binary="$(bash "${HERE}/gateway-conformance-build.sh" | tail -1)"
  module="$(bash "${HERE}/gateway-conformance-build.sh" --module-dir)"
  if [[ -z "${REPORT_DIR}" ]]; then
    REPORT_DIR="${REPO}/docs/conformance"
    [[ "${SUBSET_RUN}" == 1 || -n "${ONLY}" ]] && REPORT_DIR="${WORK}"
  fi
  mkdir -p "${REPORT_DIR}"
  local suffix=""; [[ "${SUBSET_RUN}" == 1 ]] && suffix="-subset"; [[ -n "${ONLY}" ]] && suffix="-run"
  report="$(realpath "${REPORT_DIR}")/gateway-api-$(bash "${HERE}/gateway-conformance-build.sh" --version)${suffix}-report.yaml"
  build_images
  trap teardown EXIT
  node_sh up "${NODE}" >/dev/null
  load_images "${module}"
  apply_crds
  kc apply -f "${REPO}/manifests" >/dev/null
  kc -n heptio-contour rollout status deployment/contour --timeout=300s >/dev/null \
    || die "the contour Deployment did not become Available"
  apply_gatewayclass
  log "ready in $(( $(date +%s) - start ))s; running the suite (log: ${WORK}/suite.log)"
  local rc=0
  run_suite "${binary}" "${report}" || rc=$?
  [[ -f "${report}" ]] && log "report: ${report}"
  log "done in $(( $(date +%s) - start ))s (suite exit ${rc})"
  return "${rc}"
}

main
