# claimdesk: slim image, non-root, migrations applied on start, configured from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLAIMDESK_DATABASE_URL=sqlite+aiosqlite:////data/claimdesk.db \
    CLAIMDESK_CLASSIFIER_CACHE_DIR=/srv/claimdesk/var/models

WORKDIR /srv/claimdesk
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install -e . \
    && claimdesk classifier train --builtin-only \
    && useradd --system --uid 10001 --home-dir /srv/claimdesk claimdesk \
    && mkdir -p /data \
    && chown claimdesk /data

USER claimdesk
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

ENTRYPOINT ["claimdesk"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
