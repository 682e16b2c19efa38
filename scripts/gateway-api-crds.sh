#!/usr/bin/env bash
# Write manifests/05-gateway-api-crds.yaml from the pinned sigs.k8s.io/gateway-api module
# (downloaded once into the Go module cache) and regenerate the validation boundary's
# schema set from manifests/ (controller/validation/crd_schemas.json).
#
#   scripts/gateway-api-crds.sh           write both
#   scripts/gateway-api-crds.sh --check   exit 1 when either is stale
#   scripts/gateway-api-crds.sh --dir     print the module directory only
set -euo pipefail

VERSION="v1.6.3"  # controller/validation/gateway_crds.py VERSION says the same
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-${ROOT}/.venv/bin/python}"
[[ -x "${PY}" ]] || PY=python3
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"

module_dir() {
  # -json prints the cached module's Dir (downloading it the first time only)
  (cd /tmp && GOFLAGS=-mod=mod "${GO}" mod download -json "sigs.k8s.io/gateway-api@${VERSION}") |
    "${PY}" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'
}

DIR="$(module_dir)"
if [[ "${1:-}" == "--dir" ]]; then echo "${DIR}"; exit 0; fi
cd "${ROOT}"
CHECK=()
[[ "${1:-}" == "--check" ]] && CHECK=(--check)
"${PY}" -m controller.validation.gateway_crds "${DIR}" "${CHECK[@]}"
"${PY}" -m controller.validation.generate "${CHECK[@]}"
