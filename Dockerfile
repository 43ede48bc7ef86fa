# One image for the API, the worker and migrations: `caseflow api|worker|db upgrade`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASEFLOW_ROUTING_RULES_DIR=/app/routing_rules

WORKDIR /app
COPY pyproject.toml README.md worker.py ./
COPY caseflow ./caseflow
COPY api ./api
COPY workflows ./workflows
COPY activities ./activities
COPY cli ./cli
COPY console ./console
COPY scripts/console-assets ./scripts/console-assets
# The console's scripts (htmx) are fetched here, at build time, pinned and checked: the
# running container loads nothing from the internet.
RUN python scripts/console-assets && pip install --no-cache-dir . \
    && useradd --system --uid 10001 caseflow
COPY routing_rules ./routing_rules
COPY email_templates ./email_templates

USER caseflow
EXPOSE 8000
CMD ["caseflow", "api", "--host", "0.0.0.0"]
