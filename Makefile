# govserve: the two commands are `make run` (demo) and `make test` (everything).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
export DJANGO_SETTINGS_MODULE ?= config.settings.local
export UV_PYTHON_DOWNLOADS := never
# Cached bytecode makes every process start (tests spawn many) several times faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup run test lint typecheck pytest bench system-deps clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## Install Python and npm dependencies and build the static assets (idempotent)
	@scripts/bootstrap.sh

run: setup  ## Set up, migrate SQLite, publish the examples, create demo users and serve on 127.0.0.1:8000
	@$(VENV)/govserve demo --host 127.0.0.1 --port 8000

system-deps:  ## Install the system packages the tests need (Debian's chromium) when missing
	@scripts/system_deps.sh

lint: setup  ## ruff
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .

typecheck: setup  ## mypy --strict
	@$(VENV)/mypy --cache-dir .mypy_cache .

pytest: setup system-deps  ## The pytest suite (DATABASE_URL selects PostgreSQL)
	@DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test: setup system-deps lint typecheck pytest  ## Set up, then ruff, mypy and the whole test suite

bench: setup  ## Run the benchmarks (figures go to benchmarks/README.md)
	@$(VENV)/python -m benchmarks.run_all

clean:  ## Remove the virtual environment, node_modules, built assets and the local database
	rm -rf .venv node_modules govserve/web/static/govuk govserve/web/public/assets var staticfiles .mypy_cache
