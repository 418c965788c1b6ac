# Tocsin — the two commands of the README, and what they are made of.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_FLAGS ?=
# The SQLite half runs on two pytest-xdist workers, one per core (`make test PYTEST_WORKERS=0
# POSTGRES_WORKERS=0` runs each half in one process). Three did not shorten it on a busy
# machine (7 min 20 and 8 min 22 against 7 min 39 with two), and one run in four with three once
# met a CSP report from the DSFR's script on the dashboard (docs/benchmarks.md, « Trois
# processus de test »). Each worker migrates its own SQLite file or
# PostgreSQL database and uses its own temporary directory and ports; the multi-instance tests
# stay together, in order, on one worker, and the browser tests in one group per worker, each
# with its own live server (`loadgroup` with the groups of TOGETHER, tests/conftest.py).
PYTEST_WORKERS ?= 2
# The PostgreSQL half has no browser test and waits more (leases, restarts of the server, several
# instances): a third worker fills the cores it leaves idle (4 min 25 to 4 min 46 with three,
# 5 min 21 with two, docs/benchmarks.md « Le tirage des cas et les certificats »).
POSTGRES_WORKERS ?= 3
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): each
# worker would otherwise compile and rewrite every test module again (10 s of processor time
# per worker instead of 5). The `tocsin` processes the tests start get the same from
# tests/conftest.py, which also covers a direct `.venv/bin/pytest`.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

.PHONY: run test install lint typecheck playbooks-check test-sqlite test-postgres clean
.PHONY: lock audit bench-install

run: install
	$(BIN)/tocsin serve --demo

test: install lint typecheck playbooks-check test-sqlite test-postgres
test: audit

install: $(VENV)/.installed node_modules/.installed

# Every dependency (runtime and dev, pip and the build backend too) comes from the hashed lock;
# the project itself is installed on top, without resolving anything. Nothing is compiled to
# bytecode at install (half of its time: 25 s of 50 here): each module is, the first time a
# process imports it, and most of the 150 packages' modules never are.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-compile --require-hashes --only-binary :all: -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python .ci/lockcheck.py dev
	touch $@

# Regenerates the locks after a change of pyproject.toml's dependencies (needs PyPI); pins that
# still fit are kept: `make lock LOCK_UPGRADE=--upgrade` moves everything to the latest release.
# requirements-bench.lock adds the `bench` extra (locust) with the same pins as the main lock.
LOCK_TOOL := $(VENV)/lock-tools
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet $(LOCK_UPGRADE)
BUILD_REQUIRES := $(PYTHON) -c 'import tomllib; print("pip", \
  *tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
lock:
	[ -x $(LOCK_TOOL)/bin/uv ] || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/pip install --quiet 'uv>=0.5'; }
	$(BUILD_REQUIRES) | $(LOCK_TOOL)/bin/uv pip compile pyproject.toml - \
	  --extra dev $(LOCK_FLAGS) -o requirements.lock
	$(BUILD_REQUIRES) | $(LOCK_TOOL)/bin/uv pip compile pyproject.toml - \
	  --extra dev --extra bench -c requirements.lock $(LOCK_FLAGS) -o requirements-bench.lock

bench-install: install
	$(BIN)/pip install --quiet --require-hashes --only-binary :all: -r requirements-bench.lock

# Known vulnerabilities in the locked versions fail CI; accepted ones are listed, each with its
# reason, in .pip-audit-ignore.
audit: $(VENV)/.installed
	$(BIN)/python .ci/audit.py

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
	$(PYTEST) -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_FLAGS)

# The tests that reach the database, on throwaway PostgreSQL databases (one per worker), with
# the bounded multi-instance suite (`-m instances`, real worker processes, skipped on SQLite).
# The others (no `database_url` or `postgres_server` among their fixtures: channels, parsing,
# playbooks, text; and the browser tests) ran above and are deselected (tests/conftest.py).
test-postgres:
	TOCSIN_TEST_POSTGRES=$(POSTGRES_URL) $(PYTEST) -n $(POSTGRES_WORKERS) --dist loadgroup \
	  -m "not browser" $(PYTEST_FLAGS)

clean:
	rm -rf $(VENV) node_modules tocsin.db tocsin.db-wal tocsin.db-shm
