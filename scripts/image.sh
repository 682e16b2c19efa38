#!/usr/bin/env bash
# Build an image with no registry: Debian packages (mmdebstrap, from Debian's archive), the
# project's wheels for `contour`, and an OCI layout tarball written by scripts/oci_image.py.
#
#   scripts/image.sh contour|echo|echo-conformance
#                                   build if its inputs changed, print the tarball's path last
#   scripts/image.sh --name contour print the image reference (what manifests/ name)
#
# An image is described once, in image/NAME/: `packages` (Debian packages), `setup.sh` (run
# as root inside the image's root with the build folder as $1: installs and trims) and
# `config.json` (user, entrypoint, env, ports). The Dockerfile reads the same three files,
# so the two builds cannot drift (tests/node/test_image_description.py checks the rest).
# Tarballs are cached under ~/.cache/kubectl-contour/images, keyed by a hash of every input
# file; SOURCE_DATE_EPOCH (default: the last commit's time) stamps every file.
#
# Environment: PYTHON (a python with pip, default python3), IMAGE_CACHE_DIR.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${IMAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-contour/images}"
PYTHON="${PYTHON:-python3}"
SUITE=bookworm
PY_TAG=311  # bookworm's python3: the wheels are fetched for it, whatever Python runs pip

log() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] ERROR: %s\n' "$*" >&2; exit 1; }

reference() {
  case "$1" in
    contour) echo docker.io/library/kubectl-contour:latest ;;
    echo) echo docker.io/library/kubectl-contour-echo:latest ;;
    # the Gateway API suite's backend; scripts/gateway-conformance.sh tags it with every
    # echo-basic and coredns name the suite's manifests use
    echo-conformance) echo registry.k8s.io/gateway-api/echo-basic:v1.5.1 ;;
    *) die "unknown image $1 (contour, echo or echo-conformance)" ;;
  esac
}

# The files an image is made of, repo-relative, sorted (the project's sources for contour).
inputs() {
  (cd "${REPO}" && {
    git ls-files -co --exclude-standard "image/$1" scripts/image.sh scripts/oci_image.py
    [[ "$1" != contour ]] || git ls-files -co --exclude-standard controller kubectl_contour \
      pyproject.toml README.md
  } | LC_ALL=C sort -u | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
}

cache_key() {
  (cd "${REPO}" && inputs "$1" | while read -r f; do sha256sum "$f"; done) | sha256sum | cut -c1-16
}

wheels() {  # wheels OUT: the project's wheel, every dependency's (cp311, manylinux), pip's
  local out="$1" src; src="$(mktemp -d)"
  (cd "${REPO}" && inputs contour | grep -v '^image/\|^scripts/' | tar -cf - -T -) | tar -xf - -C "${src}"
  "${PYTHON}" -m pip wheel --quiet --no-deps --wheel-dir "${out}" "${src}" \
    || die "pip wheel of the project failed"
  rm -rf "${src}"
  local platforms=() v
  for v in 17 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${v}_x86_64"); done
  "${PYTHON}" -m pip download --quiet --dest "${out}" --find-links "${out}" --only-binary=:all: \
    --python-version "3.${PY_TAG#3}" --implementation cp --abi "cp${PY_TAG}" --abi abi3 --abi none \
    "${platforms[@]}" --platform any 'kubectl-contour[envoy]' pip \
    || die "pip download of the dependencies' wheels failed"
}

build() {
  local name="$1" out="$2" tmp; tmp="$(mktemp -d)"
  command -v mmdebstrap >/dev/null || bash "${REPO}/scripts/node-build.sh" >/dev/null
  mkdir -p "${tmp}/build"
  cp -r "${REPO}/image/${name}/." "${tmp}/build/"
  [[ "${name}" != contour ]] || wheels "${tmp}/build/wheels"
  local pkgs; pkgs="$(grep -v '^#' "${REPO}/image/${name}/packages" | paste -sd, -)"
  log "${name}: mmdebstrap ${SUITE} + ${pkgs}"
  # its own mount namespace: mmdebstrap's /proc and /dev mounts never touch the host
  # (merged /usr by its hook, not by the usrmerge package, which would pull in perl)
  unshare --mount --propagation private mmdebstrap --quiet --variant=essential \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="${pkgs}" --format=tar \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="copy-in ${tmp}/build /tmp" \
    --customize-hook='chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root sh /tmp/build/setup.sh /tmp/build' \
    --customize-hook='rm -rf "$1/tmp/build"' \
    "${SUITE}" "${tmp}/rootfs.tar" || die "mmdebstrap for ${name} failed"
  "${PYTHON}" "${REPO}/scripts/oci_image.py" --name "$(reference "${name}")" \
    --config "${REPO}/image/${name}/config.json" --layer-tar "${tmp}/rootfs.tar" \
    --out "${out}" || die "writing the OCI layout for ${name} failed"
  rm -rf "${tmp}"
}

main() {
  if [[ "${1:-}" == --name ]]; then reference "${2:?image name}"; return; fi
  local name="${1:?usage: image.sh contour|echo|echo-conformance}"
  reference "${name}" >/dev/null
  export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "${REPO}" log -1 --format=%ct 2>/dev/null || echo 0)}"
  local key out; key="$(cache_key "${name}")"; out="${CACHE}/${name}-${key}.tar"
  if [[ -f "${out}" ]]; then log "${name}: cached ${out}"; echo "${out}"; return; fi
  mkdir -p "${CACHE}"
  local start; start=$(date +%s)
  build "${name}" "${out}.tmp"
  mv -f "${out}.tmp" "${out}"
  # older builds of this image only (a 16-hex key: `echo-*` would take echo-conformance's too)
  find "${CACHE}" -maxdepth 1 -name "${name}-$(printf '?%.0s' {1..16}).tar" ! -name "${out##*/}" -delete
  log "${name}: built in $(( $(date +%s) - start ))s, $(du -m "${out}" | cut -f1) MB: ${out}"
  echo "${out}"
}

main "$@"
