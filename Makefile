# Tocsin — the two commands of the README, and what they are made of.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_FLAGS ?=
# Both halves run on two pytest-xdist workers (one per core; `make test PYTEST_WORKERS=0` runs
# in one process). Each worker migrates its own SQLite file or PostgreSQL database and uses
# its own temporary directory and ports; the browser tests, and the multi-instance tests, stay
# together, in order, on one worker (`loadgroup` with the groups of TOGETHER, tests/conftest.py).
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: run test install lint typecheck playbooks-check test-sqlite test-postgres clean

run: install
	$(BIN)/tocsin serve --demo

test: install lint typecheck playbooks-check test-sqlite test-postgres

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy crisis channels contacts playbooks exercises storage

playbooks-check:
	$(BIN)/tocsin playbooks check

# The whole suite on SQLite, browser tests included.
test-sqlite:
	$(BIN)/pytest $(XDIST) $(PYTEST_FLAGS)

# The tests that reach the database, on throwaway PostgreSQL databases (one per worker), with
# the bounded multi-instance suite (`-m instances`, real worker processes, skipped on SQLite).
# The others (no `database_url` or `postgres_server` among their fixtures: channels, parsing,
# playbooks, text; and the browser tests) ran above and are deselected (tests/conftest.py).
test-postgres:
	TOCSIN_TEST_POSTGRES=$(POSTGRES_URL) $(BIN)/pytest $(XDIST) -m "not browser" $(PYTEST_FLAGS)

clean:
	rm -rf $(VENV) node_modules tocsin.db tocsin.db-wal tocsin.db-shm
