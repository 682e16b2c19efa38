#!/bin/sh
# kubectl-contour as the krew archive installs it (scripts/release.sh puts this file at the
# archive's top as `kubectl-contour`, beside wheels/). The first run makes a venv next to
# this file from the bundled wheels only (no index is asked), with the first python3 >= 3.11
# on PATH (or $KUBECTL_CONTOUR_PYTHON); every run then execs the plugin in it.
set -eu
home="$(dirname "$(readlink -f "$0")")"
venv="$home/venv"

install() {
  py="${KUBECTL_CONTOUR_PYTHON:-python3}"
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "kubectl-contour: needs python3 >= 3.11 on PATH (or KUBECTL_CONTOUR_PYTHON)" >&2
    return 1
  fi
  # made where it stays (a venv is not relocatable); pip runs from its bundled wheel
  rm -rf "$venv"
  "$py" -m venv --without-pip "$venv" &&
    "$venv/bin/python" "$(ls "$home"/wheels/pip-*.whl | head -1)/pip" install --quiet \
      --no-index --no-cache-dir --disable-pip-version-check --find-links "$home/wheels" \
      kubectl-contour >&2 &&
    touch "$venv/.installed" && return 0
  rm -rf "$venv"
  echo "kubectl-contour: installing the bundled wheels with $("$py" -V 2>&1) failed" >&2
  return 1
}

if [ ! -e "$venv/.installed" ]; then
  # one installer at a time (a completion may start while the first command installs)
  # (a lock older than a minute is a killed installer's: taken over)
  n=0
  while ! mkdir "$home/.installing" 2>/dev/null && [ "$n" -lt 300 ]; do
    sleep 0.2; n=$((n + 1))
  done
  trap 'rmdir "$home/.installing" 2>/dev/null' EXIT
  [ -e "$venv/.installed" ] || install
  rmdir "$home/.installing" 2>/dev/null || true
  trap - EXIT
fi
exec "$venv/bin/kubectl-contour" "$@"
