# finops_exec task runner. `make help` lists the targets.
#
# The first interpreter of at least Python 3.11 found on PATH builds the virtualenv; Django 6 is
# installed on 3.12 and newer, the Django 5.2 LTS line on 3.11. Override with PYTHON=/path/to/python.

PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migrations bench worker beat clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed on PATH (or PYTHON=...)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/.installed ## Create the virtualenv and install the project with its dev tools

run: export DJANGO_DEBUG ?= true
run: $(BIN)/.installed ## Run the product on SQLite with demo data at http://127.0.0.1:8000
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "  finops_exec is starting at http://$(HOST):$(PORT)/"
	@echo "  Portfolio brief: http://$(HOST):$(PORT)/briefs/portfolio/"
	@echo "  Demo logins (password finops-demo): executive, practitioner, finance; admin for /admin/"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: export DJANGO_SECRET_KEY ?= test-only-secret-key
test: $(BIN)/.installed ## Run ruff and the whole test suite (DATABASE_URL / REDIS_URL when set)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(BIN)/.installed ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations: $(BIN)/.installed ## Make migrations after a model change
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations

worker: $(BIN)/.installed ## Run a Celery worker (needs REDIS_URL)
	$(BIN)/celery -A finops_exec worker -Q default,ingest -l info

beat: $(BIN)/.installed ## Run Celery beat (needs REDIS_URL)
	$(BIN)/celery -A finops_exec beat -l info

bench: $(BIN)/.installed ## Time the ingest against a bare COPY (PostgreSQL; ARGS="--rows 5000000")
	$(BIN)/python bench/ingest_bench.py $(ARGS)

clean: ## Remove the virtualenv, the SQLite file and caches
	rm -rf $(VENV) finops_exec.sqlite3 .pytest_cache .ruff_cache staticfiles
