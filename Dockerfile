# One image for web, worker, beat and cloudsim (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NESTOPS_VAR_DIR=/var/lib/nestops
RUN apt-get update && apt-get install -y --no-install-recommends curl git gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY nestops nestops
COPY instances instances
COPY operations operations
COPY billing billing
COPY cloudsim cloudsim
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --system --home /var/lib/nestops nestops && mkdir -p /var/lib/nestops \
    && chown nestops /var/lib/nestops
USER nestops
EXPOSE 8000
CMD ["gunicorn", "nestops.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
