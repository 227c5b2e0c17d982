# product-review GitHub App server (and the CLI).
#   docker build -t product-review .
#   docker run -p 3000:3000 -v "$PWD/.env:/home/app/.env:ro" \
#     -v product-review-state:/home/app/.product-review product-review
# BASE_IMAGE is any Debian-like image with python3 (3.11 or later) and its venv
# module; .ci/docker-smoke builds on a local one, as Docker Hub may be out of reach.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# The project and its dependencies go into one virtual environment, which is all
# the runtime stage copies: no wheel, no pip cache, no sources left behind.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/product-review
WORKDIR /src
COPY pyproject.toml README.md ./
COPY checks ./checks
COPY ghapp ./ghapp
COPY localreview ./localreview
# Not editable, so the venv holds the package itself rather than a link to /src.
RUN /opt/product-review/bin/pip install .

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/product-review/bin:$PATH \
    PORT=3000 \
    HOST=0.0.0.0
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/product-review /opt/product-review
USER app
WORKDIR /home/app
# The durable queue (STATE_DIR): mount a volume here so a restarted container
# takes up the jobs its predecessor left. A new named volume takes this folder's
# owner (uid 10001), so the server can write to it.
RUN mkdir -p /home/app/.product-review
VOLUME ["/home/app/.product-review"]
EXPOSE 3000
# No curl in a slim image; the venv's Python is there anyway.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1
# SIGTERM lets in-flight reviews finish (up to about 8 s) before exiting.
STOPSIGNAL SIGTERM
# A command given to `docker run` replaces this one, e.g.
# `docker run -v "$PWD/docs:/docs:ro" product-review product-review check /docs`.
CMD ["product-review", "serve"]
