#!/bin/sh
# Install the conformance echo backend into the image's root and trim it; runs as root inside
# that root (a chroot under scripts/image.sh). In: $1 = this folder. Out: /opt/echo-basic.
set -eu
mkdir -p /opt/echo-basic/echo_basic
cp "$1"/echo_basic/*.py /opt/echo-basic/echo_basic/
cd /opt/echo-basic && python3 -c 'import echo_basic.__main__, echo_basic.grpc_echo as g; g.message_classes()'
find / -xdev -name __pycache__ -type d -prune -exec rm -rf {} +
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
  /var/cache/debconf/*-old /var/lib/apt/lists/* /var/cache/apt/* /var/log/*
