# Season Planner: `make run` serves the planner, `make test` runs the tests. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/season_planner
PYTEST_ARGS ?=

# Optional local configuration (see .env.example), exported to every command.
ifneq (,$(wildcard .env))
include .env
export
endif

# The settings default to DEBUG off (a deployment that forgets the variable is not in debug mode);
# the local demo, the tests and the benches run with DEBUG on unless told otherwise.
DEBUG ?= 1
export DEBUG

.PHONY: setup seed run test test-sqlite test-postgres bench clean

setup: $(STAMP)

# Reinstall only when a requirements file changed.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

seed: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py loaddata clusters stores categories
	$(PY) manage.py load_history --synthetic
	$(PY) manage.py create_demo_planner

run: seed
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py recover_workflows
	$(PY) -m daphne -b $(HOST) -p $(PORT) forecast_site.asgi:application

test: setup test-sqlite test-postgres

test-sqlite: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL when it is reachable (this machine and CI have it).
test-postgres: setup
	@if $(PY) scripts/reachable.py postgres; then \
		echo "== PostgreSQL run ($(PG_TEST_URL)) =="; \
		DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -m "not browser" $(PYTEST_ARGS); \
	else \
		echo "NOTICE: PostgreSQL not reachable on 127.0.0.1:5432; skipping the PostgreSQL run."; \
	fi

bench: seed
	@for script in bench/*.py; do echo "== $$script =="; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
