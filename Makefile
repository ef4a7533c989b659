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
STAMP := $(VENV)/.installed-$(shell cat requirements-test.lock | sha256sum | cut -c1-16)
# Locks with hashes, compiled by uv from requirements*.txt: requirements.lock (runtime: the Docker image)
# and requirements-test.lock (runtime + test tools, the same runtime pins: make install). Existing pins are
# kept unless a requirement changed or UPGRADE= names a package (make lock UPGRADE=django).
UV := $(abspath $(VENV))/bin/uv
UV_COMPILE := $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 --custom-compile-command "make lock"
define compile_locks
$(UV_COMPILE) requirements.txt -o requirements.lock $(1) && \
$(UV_COMPILE) requirements-test.txt --constraint requirements.lock -o requirements-test.lock $(1)
endef

# Celery queues a `make worker` consumes (default: all of them, as one process on one machine).
ALL_QUEUES := intake,drafts,send,long,celery
QUEUES ?= $(ALL_QUEUES)
CONCURRENCY ?= 2
comma := ,
WORKER_NAME = $(if $(filter $(ALL_QUEUES),$(QUEUES)),all,$(subst $(comma),-,$(QUEUES)))

# The suite runs on real services; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/omnichannel
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install lock lock-check migrate seed lint bench bench-quick worker beat clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements-test.lock
	$(PIP) install --quiet --require-hashes -r requirements-test.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

lock: install
	$(call compile_locks,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))

# Fails when a lock disagrees with requirements*.txt: compiles again in a scratch copy (the current pins as
# preferences, so only a changed requirement changes the output) and compares.
lock-check: install
	@tmp=$$(mktemp -d) && cp requirements*.txt requirements*.lock "$$tmp"/ && \
	(cd "$$tmp" && $(call compile_locks,)) && \
	diff -u requirements.lock "$$tmp"/requirements.lock && diff -u requirements-test.lock "$$tmp"/requirements-test.lock \
	|| { echo "requirements*.lock disagree with requirements*.txt: run 'make lock' and commit the locks"; exit 1; }; \
	rm -rf "$$tmp"; echo "locks match requirements*.txt"

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --history

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
	$(VENV)/bin/lint-imports --no-cache

# make worker QUEUES=drafts CONCURRENCY=4 : a worker for one workload (queues in omnichannel/celery.py)
worker: install
	$(VENV)/bin/celery -A omnichannel worker --loglevel=INFO --queues=$(QUEUES) --concurrency=$(CONCURRENCY) --hostname=$(WORKER_NAME)-$$$$@%h

beat: install
	$(VENV)/bin/celery -A omnichannel beat --loglevel=INFO

# Every benchmark 3 times, interleaved; the summary gives each figure's median and range (bench/run_all.py).
bench: install
	$(PY) bench/run_all.py --runs 3

bench-quick: install
	$(PY) bench/run_all.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
