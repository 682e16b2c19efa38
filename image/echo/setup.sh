#!/bin/sh
# Install the echo backend into the image's root and trim it; runs as root inside that root
# (a chroot under scripts/image.sh). In: $1 = this folder. Out: /opt/echo/echo.py.
set -eu
mkdir -p /opt/echo
cp "$1/echo.py" /opt/echo/echo.py
python3 -c 'import http.server'
find / -xdev -name __pycache__ -type d -prune -exec rm -rf {} +
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
  /var/cache/debconf/*-old /var/lib/apt/lists/* /var/cache/apt/* /var/log/*
