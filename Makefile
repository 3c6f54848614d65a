# Vafa: `make run` serves the product, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-sqlite test-postgres system-deps bench messages lint clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## make run: install, migrate, seed demo data on first run, serve with the worker.
run: $(STAMP)
	$(BIN)/vafa db upgrade
	$(BIN)/vafa demo
	@echo "Vafa: http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/admin/login)"
	VAFA_COOKIE_SECURE=$${VAFA_COOKIE_SECURE:-false} $(BIN)/vafa run --host $(HOST) --port $(PORT)

## make test: system packages the tests need, then the suite on SQLite and PostgreSQL.
test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -p no:cacheprovider --db=sqlite
	$(BIN)/python -m pytest -p no:cacheprovider --db=postgres

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest --db=sqlite $(ARGS)

test-postgres: $(STAMP)
	$(BIN)/python -m pytest --db=postgres $(ARGS)

system-deps:
	@scripts/system-deps.sh

bench: $(STAMP)
	$(BIN)/python -m bench

## make messages: extract strings and update the fa/hy/en catalogs.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project=vafa --copyright-holder=Vafa -o vafa/i18n/messages.pot .
	$(BIN)/pybabel update -i vafa/i18n/messages.pot -d vafa/i18n/locales --no-fuzzy-matching

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var test-artifacts
