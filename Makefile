# Developer entry points. `make demo` needs nothing but Python 3.11: SQLite, eager Celery.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# No DATABASE_URL / broker, even if a .env sets them: the embedded defaults.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 CELERY_BROKER_URL= REDIS_URL=
# The same for tests (pytest-django's SQLite test database is in memory), and no demand for
# PostgreSQL and Redis: tests/services.py refuses SQLite when SALESPERF_REQUIRE_SERVICES is set.
SQLITE_TEST_ENV := $(DEMO_ENV) SALESPERF_REQUIRE_SERVICES=
# A developer's loop, under a minute: the pure arithmetic, the metrics, targets, visibility and
# the pages, with the incremental == full property at 8 examples (CI: 40). Left to `make test`:
# the table of incremental cases, the API, bad input, security, demo, load, perf, reliability,
# integration and browser tests.
FAST_TESTS := tests/kpis tests/targets tests/teams tests/web/test_pages.py \
	--ignore=tests/kpis/test_incremental.py -m "not integration and not e2e"

.PHONY: venv test test-fast test-engine-sqlite lint migrations-check demo worker beat

venv: $(VENV)/.installed

# Re-installs only when a requirements file is newer than the stamp.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Everything CI checks on the environment's database (.ci/run: PostgreSQL and Redis).
test: lint migrations-check
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/ruff check .
	$(SQLITE_TEST_ENV) HYPOTHESIS_PROFILE=salesperf-quick $(BIN)/pytest $(FAST_TESTS) $(PYTEST_ARGS)

# The engine's tests on SQLite with eager Celery, whatever the environment: the engine has a
# writer per backend, so CI runs these here as well as on PostgreSQL in `make test`.
test-engine-sqlite: venv
	$(SQLITE_TEST_ENV) $(BIN)/pytest tests/kpis -m "not integration" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Fails when a model changed without its migration.
migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

demo: venv
	$(DEMO_ENV) $(BIN)/python manage.py migrate
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --flush  # fresh demo data, ending this month
	$(DEMO_ENV) $(BIN)/python manage.py collectstatic --noinput
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

worker: venv
	$(BIN)/celery -A salesperf worker -l info

beat: venv
	$(BIN)/celery -A salesperf beat -l info
