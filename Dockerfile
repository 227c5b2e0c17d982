# product-review GitHub App server.
#   docker build -t product-review .
#   docker run --env-file .env -p 3000:3000 product-review
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY checks ./checks
COPY ghapp ./ghapp
COPY localreview ./localreview
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    HOST=0.0.0.0
RUN useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin app
COPY --from=build /wheels /wheels
# Everything was built above: the runtime stage never reaches for an index.
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER app
WORKDIR /home/app
# The durable queue (STATE_DIR): mount a volume here so a restarted container
# takes up the jobs its predecessor left.
RUN mkdir -p /home/app/.product-review
VOLUME ["/home/app/.product-review"]
EXPOSE 3000
# The slim image has no curl; Python is there anyway.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1
# SIGTERM lets in-flight reviews finish (up to about 8 s) before exiting.
STOPSIGNAL SIGTERM
CMD ["product-review", "serve"]
