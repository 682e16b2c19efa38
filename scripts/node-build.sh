#!/usr/bin/env bash
# Build what a single-node cluster needs beyond scripts/envtest.sh's etcd and kube-apiserver,
# once, into a cache folder; reuse it after. Called by scripts/node.sh; runnable alone.
#
#   scripts/node-build.sh           install/build what is missing, print the bin dir last
#   scripts/node-build.sh --print   print the bin dir only (no build)
#
# - kubelet, kube-controller-manager, kube-scheduler, kube-proxy: one `go build` of the pinned
#   k8s.io/kubernetes module (the same version and replace list as scripts/envtest.sh)
# - pause: a static C binary (the pod sandbox's only process) and its OCI image tarball
# - containerd, runc, CNI plugins, iptables, conntrack, socat, mmdebstrap, curl: Debian packages,
#   installed with apt-get when a command is missing; a failed install stops here, loudly
#
# Environment: NODE_BIN_DIR (default: cache folder below), ENVTEST_K8S_VERSION, GO, PYTHON.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-v1.35.4}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-contour/node"
VERSION_DIR="${CACHE_ROOT}/k8s-${K8S_VERSION}"
BIN_DIR="${NODE_BIN_DIR:-${VERSION_DIR}/bin}"
K8S_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy)
# command -> Debian package that provides it
DEBIAN_PACKAGES=(
  containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins
  iptables:iptables conntrack:conntrack socat:socat mmdebstrap:mmdebstrap curl:curl
)

log() { printf '[node-build] %s\n' "$*" >&2; }
die() { printf '[node-build] ERROR: %s\n' "$*" >&2; exit 1; }

PAUSE_IMAGE=localhost/kcnode/pause:1
if [[ "${1:-}" == "--print" ]]; then echo "${BIN_DIR}"; exit 0; fi
if [[ "${1:-}" == "--pause-image" ]]; then echo "${PAUSE_IMAGE}"; exit 0; fi

have() { [[ "$1" == /* ]] && [[ -x "$1" ]] || command -v "$1" >/dev/null 2>&1; }

install_packages() {
  local missing=() pair
  for pair in "${DEBIAN_PACKAGES[@]}"; do
    have "${pair%%:*}" || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  local sudo=""; [[ "$(id -u)" == 0 ]] || sudo=sudo
  log "installing Debian packages: ${missing[*]}"
  { ${sudo} apt-get update -qq && ${sudo} env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed: install them and run again"
  for pair in "${DEBIAN_PACKAGES[@]}"; do
    have "${pair%%:*}" || die "${pair#*:} installed but ${pair%%:*} is still missing"
  done
}

find_go() {
  GO="${GO:-}"
  [[ -n "${GO}" ]] && return 0
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain found (set GO=/path/to/go)"; fi
}

build_kubernetes() {
  local b missing=()
  for b in "${K8S_BINARIES[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || missing+=("$b"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  find_go
  PYTHON="${PYTHON:-python3}"
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
  # shellcheck source=scripts/k8s-module.sh
  source "$(dirname "${BASH_SOURCE[0]}")/k8s-module.sh"
  local dir="${VERSION_DIR}/build/node" out="${VERSION_DIR}/build/out"
  k8s_prepare_module "${dir}" node.local/kubernetes "${K8S_VERSION}" || die "module setup failed"
  local pkgs=() ; for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  log "building ${missing[*]} ${K8S_VERSION} in one go build (~2 min warm, ~6 min cold)"
  rm -rf "${out}"; mkdir -p "${out}"
  (cd "${dir}" && "${GO}" build -trimpath -ldflags="$(k8s_ldflags "${K8S_VERSION}")" \
      -o "${out}/" "${pkgs[@]}") || die "go build of ${missing[*]} failed (see output above)"
  for b in "${missing[@]}"; do mv -f "${out}/${b}" "${BIN_DIR}/${b}"; done
}

build_pause() {
  [[ -x "${BIN_DIR}/pause" ]] && return 0
  command -v gcc >/dev/null || die "gcc is needed to build the pause binary"
  local src="${VERSION_DIR}/build/pause.c"
  mkdir -p "$(dirname "${src}")"
  # the sandbox's only job: hold the pod's namespaces, reap children, exit on TERM/INT
  cat >"${src}" <<'C'
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction term = {.sa_handler = stop}, child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGTERM, &term, NULL); sigaction(SIGINT, &term, NULL); sigaction(SIGCHLD, &child, NULL);
  for (;;) pause();
}
C
  gcc -static -O2 -s -o "${BIN_DIR}/pause.tmp" "${src}" || die "gcc -static pause.c failed"
  mv -f "${BIN_DIR}/pause.tmp" "${BIN_DIR}/pause"
}

pause_image() {  # the sandbox image, an OCI layout holding only /pause
  [[ -f "${BIN_DIR}/pause-image.tar" ]] && return 0
  local repo; repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  SOURCE_DATE_EPOCH=0 python3 "${repo}/scripts/oci_image.py" --name "${PAUSE_IMAGE}" \
    --config "${repo}/image/pause/config.json" --add "${BIN_DIR}/pause:/pause" \
    --out "${BIN_DIR}/pause-image.tar" || die "packing the pause image failed"
}

START=$(date +%s)
mkdir -p "${BIN_DIR}"
install_packages
build_pause
pause_image
build_kubernetes
for b in "${K8S_BINARIES[@]}"; do
  "${BIN_DIR}/${b}" --version >/dev/null 2>&1 || die "${BIN_DIR}/${b} does not run"
done
log "ready in $(( $(date +%s) - START ))s: ${BIN_DIR}"
echo "${BIN_DIR}"
