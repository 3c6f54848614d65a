# Vafa: `make run` serves the product, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two hash-locked sets, both generated from pyproject.toml by `make lock`:
# requirements.lock (what runs) and requirements-test.lock (that plus the test extra).
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# `make lock` runs uv from its own small venv, so neither lock set contains it.
UV_VERSION := 0.13.9
LOCK_TOOLS := $(VENV)/lock-tools
UV := $(LOCK_TOOLS)/bin/uv
UV_STAMP := $(LOCK_TOOLS)/.uv-$(UV_VERSION)
LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command "make lock"
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-sqlite test-postgres system-deps bench messages lint typecheck lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The editable install lists the top-level packages it found: a new domain (listed in
# the composition root) installs again.
PACKAGES := pyproject.toml vafa/server/__init__.py

# What `make run` needs: runtime dependencies only.
$(RUN_STAMP): $(PACKAGES) requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# What the tests need: the runtime set plus the test extra.
$(TEST_STAMP): $(PACKAGES) requirements-test.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## make run: install, migrate, seed demo data on first run, serve with the worker.
run: $(RUN_STAMP)
	$(BIN)/vafa db upgrade
	$(BIN)/vafa demo
	@echo "Vafa: http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/admin/login)"
	@$(BIN)/vafa sms webhook --base http://$(HOST):$(PORT)
	VAFA_COOKIE_SECURE=$${VAFA_COOKIE_SECURE:-false} VAFA_PUBLIC_URL=$${VAFA_PUBLIC_URL:-http://$(HOST):$(PORT)} \
	  $(BIN)/vafa run --host $(HOST) --port $(PORT)

## make test: system packages the tests need, lint and types, then the suite on SQLite
## and PostgreSQL (the layer rule between packages is one of the tests).
test: $(TEST_STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:cacheprovider --db=sqlite
	$(BIN)/python -m pytest -p no:cacheprovider --db=postgres

test-sqlite: $(TEST_STAMP)
	$(BIN)/python -m pytest --db=sqlite $(ARGS)

test-postgres: $(TEST_STAMP)
	$(BIN)/python -m pytest --db=postgres $(ARGS)

system-deps:
	@scripts/system-deps.sh

bench: $(RUN_STAMP)
	bash scripts/system-deps.sh bench
	$(BIN)/python -m bench

## make messages: extract strings and update the fa/hy/en catalogs.
messages: $(RUN_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project=vafa --copyright-holder=Vafa -o vafa/i18n/messages.pot .
	$(BIN)/pybabel update -i vafa/i18n/messages.pot -d vafa/i18n/locales --no-fuzzy-matching

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

## make typecheck: mypy alone, configured in pyproject.toml ([tool.mypy]).
typecheck: $(TEST_STAMP)
	$(BIN)/mypy

## make lock: after changing a dependency in pyproject.toml, regenerate both lock files.
## Pins already in the lock files are kept unless pyproject.toml needs otherwise;
## LOCK_ARGS="--upgrade-package NAME" moves one package to its newest allowed version.
lock: $(UV_STAMP)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements.lock
	$(UV) pip compile pyproject.toml --extra test -c requirements.lock $(LOCK_FLAGS) $(LOCK_ARGS) \
		-o requirements-test.lock

$(UV_STAMP):
	test -x $(LOCK_TOOLS)/bin/python || $(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

clean:
	rm -rf $(VENV) var test-artifacts
