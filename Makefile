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

lint: setup  ## ruff, and the Welsh catalogue complete and compiled (scripts/i18n.py check)
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/python scripts/i18n.py check

typecheck: setup  ## mypy --strict
	@$(VENV)/mypy --cache-dir .mypy_cache .

# The whole suite runs in parallel (pytest-xdist): one worker per core, at most 8 (each worker
# migrates its own test database). Every worker is a whole test process of its own (database,
# live server on a free port, chromium, temporary directories); --dist worksteal hands each a
# contiguous half and lets an idle one take tests from the other's queue, so browser tests
# (seconds each) and unit tests (milliseconds) even out. PYTEST_WORKERS=1 runs everything in
# this process; PYTEST_ARGS runs what it names, serially (add -n 2 to it for a parallel subset).
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 8 ] && n=8; echo $$n)
PYTEST_PARALLEL := $(if $(filter-out 0 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist worksteal)

pytest: setup system-deps  ## The pytest suite, in parallel (DATABASE_URL selects PostgreSQL; PYTEST_ARGS a subset)
	@DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/pytest -p no:cacheprovider \
		$(if $(strip $(PYTEST_ARGS)),$(PYTEST_ARGS),$(PYTEST_PARALLEL))

test: setup system-deps lint typecheck pytest  ## Set up, then ruff, mypy and the whole test suite

bench: setup  ## Run the benchmarks (figures go to benchmarks/README.md)
	@GOVSERVE_SYSTEM_DEPS=bench scripts/system_deps.sh
	@$(VENV)/python -m benchmarks.run_all

clean:  ## Remove the virtual environment, node_modules, built assets and the local database
	rm -rf .venv node_modules govserve/web/static/govuk govserve/web/public/assets var staticfiles .mypy_cache
