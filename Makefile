# Two commands set everything up on a fresh machine with Python 3.11:
#   make run   - virtualenv, install, migrate, seed the demo shop, serve on http://127.0.0.1:8000/admin/
#   make test  - virtualenv, install, run the whole suite on Postgres + Redis at 127.0.0.1
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-test.txt | sha256sum | cut -c1-16)

# Celery queues a `make worker` consumes (default: all of them, as one process on one machine).
ALL_QUEUES := intake,drafts,send,long,celery
QUEUES ?= $(ALL_QUEUES)
CONCURRENCY ?= 2
comma := ,
WORKER_NAME = $(if $(filter $(ALL_QUEUES),$(QUEUES)),all,$(subst $(comma),-,$(QUEUES)))

# The suite runs on real services; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/omnichannel
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install migrate seed lint bench bench-quick worker beat clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-test.txt
	$(PIP) install --quiet -r requirements-test.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: export LOG_FORMAT = text
run: seed
	$(PY) manage.py collectstatic --noinput >/dev/null
	@echo ""
	@echo "  Admin (agents' workspace): http://$(HOST):$(PORT)/admin/   (login printed above by seed_demo)"
	@echo "  API docs:                  http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	SYNC_USE_CELERY=0 $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .

# make worker QUEUES=drafts CONCURRENCY=4 : a worker for one workload (queues in omnichannel/celery.py)
worker: install
	$(VENV)/bin/celery -A omnichannel worker --loglevel=INFO --queues=$(QUEUES) --concurrency=$(CONCURRENCY) --hostname=$(WORKER_NAME)-$$$$@%h

beat: install
	$(VENV)/bin/celery -A omnichannel beat --loglevel=INFO

bench: install
	$(PY) bench/run_all.py

bench-quick: install
	$(PY) bench/run_all.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
