# One image for web, worker and beat (the command differs). Python 3.11 as on the dev machines.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/var/lib/omnichannel
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime lock (make lock): every package pinned with its hashes; pip refuses anything else.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app omnichannel && mkdir -p $VAR_DIR && chown omnichannel $VAR_DIR
USER omnichannel
EXPOSE 8000
CMD ["gunicorn", "omnichannel.wsgi", "--config", "deploy/gunicorn.conf.py"]
