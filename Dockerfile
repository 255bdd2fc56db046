# The salesperf image: web (gunicorn), worker and beat all run from it; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are part of the image; the key is a throwaway, only collectstatic sees it.
RUN DJANGO_SETTINGS_MODULE=salesperf.settings_production \
    SECRET_KEY=collectstatic-only-not-a-real-secret-key-0123456789abcdefghij \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

# The code stays root-owned and read-only for the app user; only staticfiles is theirs, so
# that the web container's own collectstatic on start can refresh it.
RUN useradd --create-home --uid 10001 salesperf && chown -R salesperf:salesperf /app/staticfiles
USER salesperf

EXPOSE 8000
CMD ["gunicorn", "salesperf.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
