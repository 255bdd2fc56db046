# Developer entry points. `make demo` needs nothing but Python 3.11: SQLite, eager Celery.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# No DATABASE_URL / broker, even if a .env sets them: the embedded defaults.
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 CELERY_BROKER_URL= REDIS_URL=

.PHONY: venv test lint demo worker beat

venv: $(VENV)/.installed

# Re-installs only when a requirements file is newer than the stamp.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

test: venv
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo: venv
	$(DEMO_ENV) $(BIN)/python manage.py migrate
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --flush  # fresh demo data, ending this month
	$(DEMO_ENV) $(BIN)/python manage.py collectstatic --noinput
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

worker: venv
	$(BIN)/celery -A salesperf worker -l info

beat: venv
	$(BIN)/celery -A salesperf beat -l info
