#!/usr/bin/env bash
# Release artifacts, built the way a user gets them:
#
#   scripts/release.sh [--no-image] [--manifest PATH] [OUT]     (OUT default: dist/)
#
# - the wheel and the sdist (python -m build);
# - kubectl-contour.tar.gz, the krew archive: `kubectl-contour` (scripts/krew-launcher.sh:
#   its first run makes a venv from the bundled wheels/, no index asked), the wheels of the
#   project and its dependencies for CPython 3.11-3.13 on manylinux x86_64, pip's wheel,
#   completions/ (kubectl_complete-contour, bash, zsh, fish);
# - kubectl-contour-image.tar.gz, the image as an OCI layout (scripts/image.sh contour),
#   for `ctr images import` / `docker load` (skipped with --no-image);
# - the krew manifest (default completions/krew/contour.yaml) with the archive's real sha256
#   and its URI under RELEASE_BASE.
#
# Environment: RELEASE_BASE (default below; the URI is RELEASE_BASE/vVERSION/ARCHIVE),
# PYTHON (with pip and build), SOURCE_DATE_EPOCH (default: the last commit's time).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
RELEASE_BASE="${RELEASE_BASE:-https://github.com/example/kubectl-contour/releases/download}"
PY_TAGS=(311 312 313)
ARCHIVE=kubectl-contour.tar.gz

log() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] ERROR: %s\n' "$*" >&2; exit 1; }

image=1 manifest="${REPO}/completions/krew/contour.yaml" out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-image) image=0 ;;
    --manifest) manifest="$2"; shift ;;
    -*) die "unknown option $1" ;;
    *) out="$1" ;;
  esac
  shift
done
out="$(realpath -m "${out:-${REPO}/dist}")"
VERSION="$("${PYTHON}" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "${REPO}/pyproject.toml")"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "${REPO}" log -1 --format=%ct)}"
"${PYTHON}" -m build --version >/dev/null 2>&1 || die "${PYTHON} has no 'build' (pip install build)"
mkdir -p "${out}"
tmp="$(mktemp -d)"; trap 'rm -rf "${tmp}"' EXIT

# the sources as committed plus what is not ignored: what image.sh hashes, too
(cd "${REPO}" && git ls-files -co --exclude-standard | while read -r f; do [[ -f "$f" ]] && echo "$f"; done \
  | tar -cf - -T -) | (mkdir -p "${tmp}/src" && tar -xf - -C "${tmp}/src")
log "wheel and sdist ${VERSION}"
"${PYTHON}" -m build --quiet --outdir "${out}" "${tmp}/src" >&2 || die "python -m build failed"
wheel="$(ls "${out}"/kubectl_contour-"${VERSION}"-*.whl)"

log "krew archive: wheels for cp${PY_TAGS[*]}"
stage="${tmp}/archive"
mkdir -p "${stage}/wheels" "${stage}/completions"
cp "${wheel}" "${stage}/wheels/"
platforms=(); for v in 17 28 31 34 35 36 39; do platforms+=(--platform "manylinux_2_${v}_x86_64"); done
for tag in "${PY_TAGS[@]}"; do
  "${PYTHON}" -m pip download --quiet --dest "${stage}/wheels" --find-links "${stage}/wheels" \
    --only-binary=:all: --python-version "3.${tag#3}" --implementation cp --abi "cp${tag}" \
    --abi abi3 --abi none "${platforms[@]}" --platform any kubectl-contour pip >&2 \
    || die "pip download of the wheels for CPython 3.${tag#3} failed"
done
install -m 755 "${REPO}/scripts/krew-launcher.sh" "${stage}/kubectl-contour"
cp "${REPO}"/completions/kubectl_complete-contour "${REPO}"/completions/kubectl-contour.* \
  "${stage}/completions/"
# reproducible: sorted names, one owner, one time stamp, no gzip name or time
(cd "${stage}" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort \
  | tar --no-recursion --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH}" \
      -cf - -T - | gzip -n -9 >"${out}/${ARCHIVE}")
sha="$(sha256sum "${out}/${ARCHIVE}" | cut -d' ' -f1)"

if [[ "${image}" == 1 ]]; then
  log "image tarball"
  gzip -n -c "$(PYTHON="${PYTHON}" bash "${REPO}/scripts/image.sh" contour | tail -1)" \
    >"${out}/kubectl-contour-image.tar.gz"
fi

log "krew manifest ${manifest}: sha256 ${sha}"
"${PYTHON}" "${REPO}/scripts/krew_manifest.py" "${manifest}" --version "v${VERSION}" \
  --uri "${RELEASE_BASE%/}/v${VERSION}/${ARCHIVE}" --sha256 "${sha}" \
  || die "updating ${manifest} failed"
(cd "${out}" && find . -maxdepth 1 -type f ! -name "SHA256SUMS*" -printf "%P\n" | LC_ALL=C sort \
  | xargs sha256sum -- >SHA256SUMS)
log "done: ${out}"
echo "${out}"
