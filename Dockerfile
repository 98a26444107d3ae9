# syntax=docker/dockerfile:1
# triagebot: webhook endpoint, catch-up poll, staff dashboard and /metrics in one image.
# Build: docker build -t triagebot .    Run: see compose.yaml and the README.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY data ./data
RUN python -m venv /opt/triagebot \
    && /opt/triagebot/bin/pip install --no-cache-dir .
# The classifier is trained here, at image build time, from the packaged data (fixed
# seeds: the same data gives the same model), so a container never trains on start.
# After maintainers edit the known issues the bot retrains into /data/.triagebot-models.
RUN /opt/triagebot/bin/triagebot train --models-dir /opt/triagebot/models

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin triagebot \
    && mkdir -p /data \
    && chown triagebot:triagebot /data
COPY --from=build /opt/triagebot /opt/triagebot
ENV PATH=/opt/triagebot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRIAGEBOT_DB_PATH=/data/triagebot.db \
    TRIAGEBOT_MODELS_DIR=/opt/triagebot/models \
    TRIAGEBOT_LOG_FORMAT=json
USER triagebot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# The dashboard's (or, without it, the webhook server's) /healthz; no curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["triagebot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
