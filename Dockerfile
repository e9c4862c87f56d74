# memhub server image: `memhub serve` on port 8420, data in the /data volume, non-root.
#
#   docker build -t memhub .
#   docker run -d --name memhub -p 127.0.0.1:8420:8420 -v memhub-data:/data memhub
#   docker logs memhub        # the first start prints the admin key once (also in /data/admin-key)
#
# Debian's own Python 3.11 from the base image, no compiler: every dependency installs from a wheel.
# The embedding model ships inside the memhub package (memhub/pipeline/model), so the image needs no
# network at run time. BASE_IMAGE is an argument only so CI can build on a local copy of the same Debian
# release (no registry is reachable there); anywhere else leave it at its default.
ARG BASE_IMAGE=debian:bookworm-slim

# ---- python: the base plus Debian's interpreter, shared by both stages below -------------------------
FROM ${BASE_IMAGE} AS python
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# ---- build: a virtualenv with memhub and its dependencies ---------------------------------------------
FROM python AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
# Extras baked in: postgres (the compose file's second profile runs the same image) and mcp (/mcp).
# Add pdf for GoodMem PDF memories: --build-arg EXTRAS=postgres,mcp,pdf
ARG EXTRAS=postgres,mcp
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/memhub
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN /opt/memhub/bin/pip install "/src[${EXTRAS}]" \
    && /opt/memhub/bin/pip uninstall -y pip \
    && /opt/memhub/bin/memhub --version

# ---- runtime ------------------------------------------------------------------------------------------
FROM python
COPY --from=build /opt/memhub /opt/memhub
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin memhub \
    && mkdir -p /data \
    && chown memhub:memhub /data \
    && chmod 0700 /data
# MEMHUB_HOST=0.0.0.0: a container is reached through its published port, never its own loopback. What
# memhub keeps to loopback binds follows from this host: /metrics then needs an API key
# (MEMHUB_METRICS_ACCESS=auto) and the unauthenticated GoMemory door refuses to start unless given
# MEMHUB_GOMEMORY_API_KEY. Every other setting is a MEMHUB_* variable (README, "Settings").
ENV PATH=/opt/memhub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MEMHUB_HOST=0.0.0.0 \
    MEMHUB_PORT=8420 \
    MEMHUB_DATA=/data
USER memhub
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8420
# Liveness on /health (no key); follows MEMHUB_PORT. Workers (`memhub worker`) serve no HTTP: the compose
# file turns this check off for them.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('MEMHUB_PORT', '8420'), timeout=4)"]
# umask 077: the store, its WAL and anything memhub writes in /data are readable by its user only (0600),
# also on a bind-mounted folder. `exec` keeps memhub as PID 1, so it receives docker stop's SIGTERM.
ENTRYPOINT ["sh", "-c", "umask 077 && exec memhub \"$@\"", "memhub"]
CMD ["serve"]
