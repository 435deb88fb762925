FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY finops_exec finops_exec
COPY scopes scopes
COPY portfolio portfolio
COPY decisions decisions
COPY reports reports
RUN pip install --no-cache-dir .

COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input

RUN useradd --create-home finops && mkdir -p /data/media && chown finops /data/media
USER finops
EXPOSE 8000
