# helpdesk-gateway: one process serving web chat, REST API, console and the connectors.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY connectors ./connectors
COPY knowledge_base ./knowledge_base
RUN pip install .

COPY config ./config
RUN useradd --system --home /app helpdesk && mkdir -p /app/var && chown helpdesk /app/var
USER helpdesk

EXPOSE 8080
# Secrets come from the environment: HELPDESK_API__INTEGRATIONS__<NAME>__KEY, HELPDESK_CONSOLE__ADMIN__PASSWORD, ...
ENV HELPDESK_SERVER__HOST=0.0.0.0
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["helpdesk-gateway", "run", "--config", "config/gateway.toml"]
