"""Every test runs on SQLite, or on PostgreSQL when TOCSIN_TEST_POSTGRES names a server.

The schema is migrated once per run (once per xdist worker) and the Somme's geography loaded
once; between tests every other table is emptied.

On PostgreSQL only the tests that reach the database run: those whose fixtures include
`database_url` (which `db`, `settings`, `client`… build on) or `postgres_server`. The others
(channels, parsing, playbooks, text) do the same thing on either backend and ran on SQLite.
This variable is read here only (tests/test_suite_rules.py checks it): a test learns the backend
from these fixtures, `db.dialect` or `ON_POSTGRESQL`, so it cannot depend on PostgreSQL while
being left out of the PostgreSQL run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

from crisis import passwords
from crisis.app import bootstrap
from crisis.app.db import Database, make_engine
from crisis.app.factory import create_app
from crisis.app.models import metadata
from crisis.app.settings import Settings
from tests.support import FrozenClock

# The `tocsin` processes the tests start write their bytecode, as an installed service does,
# even where the environment says not to: otherwise each one compiles the whole product again
# (5.4–5.9 s of processor per start instead of 2.4–3.0 s, docs/operations.md).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

POSTGRES_SERVER = os.environ.get("TOCSIN_TEST_POSTGRES") or None
ON_POSTGRESQL = POSTGRES_SERVER is not None
# A test whose fixtures include one of these reaches the database under test.
DATABASE_FIXTURES = frozenset({"database_url", "postgres_server"})

# Tests that run together, in their order, on one xdist worker: the browser tests share one live
# server (per worker: its modules are shared out among the workers, see TogetherScheduling)
# whose data each leaves for the next; the multi-instance tests each time three worker
# processes, which another of them running meanwhile would slow down.
TOGETHER = {
    "browser": "tests/browser/",
    "instances": "tests/crisis/app/test_instances.py::",
    "chaos": "tests/chaos/",
}

# Argon2 at its production cost (64 MiB, 3 passes, 4 lanes: some 0.2 s of CPU) for each of the
# suite's thousands of user creations and logins was its biggest cost: in this process the same
# algorithm runs at its smallest cost. The production cost is checked in
# tests/crisis/app/test_operations.py; the processes the tests start keep it.
PRODUCTION_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._dummy_hash.cache_clear()  # made again, at the same cost, at its first use

REFERENCE_TABLES = {
    "geo_departement",
    "geo_arrondissement",
    "geo_epci",
    "geo_commune",
    "alembic_version",
}


def _create_postgres_database(server_url: str) -> tuple[str, str]:
    name = f"tocsin_test_{uuid.uuid4().hex[:10]}"
    url = make_url(server_url)

    async def create() -> None:
        engine = make_engine(
            url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
        )
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    async def drop() -> None:
        engine = make_engine(server_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    """The PostgreSQL server of the run, None on SQLite; a test that needs the server itself
    (a database of its own) asks for this, which keeps it in the PostgreSQL run."""
    return POSTGRES_SERVER


@pytest.fixture(scope="session")
def database_url(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str | None
) -> Iterator[str]:
    server = postgres_server
    if server:
        url, name = _create_postgres_database(server)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tocsin-test.db'}"
    database = Database.from_url(url)

    async def prepare() -> None:
        await bootstrap.prepare(database, url)
        await database.dispose()

    asyncio.run(prepare())
    yield url
    if server:
        _drop_postgres_database(server, name)


EMPTIED = [t.name for t in reversed(metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
# On PostgreSQL, what `TRUNCATE … RESTART IDENTITY CASCADE` of every table did, at a fraction of
# its cost (a new file per table, about a second a test): the tables holding rows are emptied,
# without triggers or foreign-key checks (`replica`), and the sequences used start again.
_HOLDING_ROWS = sa.text(
    " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT FROM {name})" for name in EMPTIED)
)
_RESTART_SEQUENCES = sa.text(
    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences"
    " JOIN pg_depend ON objid = format('%I.%I', schemaname, sequencename)::regclass"
    " WHERE last_value IS NOT NULL AND deptype IN ('a', 'i')"
    " AND refobjid::regclass::text = ANY(:tables)"
)


async def _empty_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            holding = {row[0] for row in await conn.execute(_HOLDING_ROWS)}
            await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for name in (name for name in EMPTIED if name in holding):
                await conn.execute(sa.text(f"DELETE FROM {name}"))
            await conn.execute(_RESTART_SEQUENCES, {"tables": EMPTIED})
        else:
            for name in EMPTIED:
                await conn.execute(sa.text(f"DELETE FROM {name}"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(database_url)
    yield database
    await _empty_tables(database)
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-not-for-production"),
        scheduler_enabled=False,
        json_logs=False,
    )


@pytest.fixture
def web_app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, database=db)


def _browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test")


@pytest.fixture
async def client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(web_app) as http:
        yield http


@pytest.fixture
async def second_client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookies) on the same app as `client`."""
    async with _browser(web_app) as http:
        yield http


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def reaches_database(item: pytest.Item) -> bool:
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def _needs_postgresql(item: pytest.Item) -> bool:
    if item.get_closest_marker("postgres_only") or item.get_closest_marker("instances"):
        return True
    return any(
        "PostgreSQL" in str(mark.kwargs.get("reason", "")) for mark in item.iter_markers("skipif")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that reach the database (see the module's docstring).

    Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while it lasts (tests/browser/conftest.py stops it after the last browser test), and tests
    that call `asyncio.run` cannot run meanwhile. Each marker of TOGETHER is its place."""
    for item in items:
        if _needs_postgresql(item) and not reaches_database(item):
            raise pytest.UsageError(
                f"{item.nodeid} needs PostgreSQL but none of its fixtures reaches the database"
                f" ({', '.join(sorted(DATABASE_FIXTURES))}): the PostgreSQL run would leave it out"
            )
    if ON_POSTGRESQL:
        left_out = [item for item in items if not reaches_database(item)]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if reaches_database(item)]
    for item in items:
        for marker, folder in TOGETHER.items():
            if (item.get_closest_marker(marker) is not None) != item.nodeid.startswith(folder):
                raise pytest.UsageError(f"{item.nodeid}: the tests marked {marker} are {folder}")
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def shared_out(counts: dict[str, int], bins: int) -> dict[str, int]:
    """Each name to one of `bins` bins, the biggest count first into the lightest bin."""
    loads, chosen = [0] * bins, {}
    for name in sorted(counts, key=lambda name: (-counts[name], name)):
        lightest = loads.index(min(loads))
        chosen[name], loads[lightest] = lightest, loads[lightest] + counts[name]
    return chosen


class TogetherScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """`--dist loadgroup` of pytest-xdist, its groups named here: each test is a unit of work of
    its own, but the tests of one TOGETHER entry form one, sent whole to one worker (the biggest
    first). xdist's own `xdist_group` marker renames `item._nodeid`, which pytest 9 ignores.

    The browser tests are the longest of these: their modules, each of which makes its own data,
    are shared out into one group per worker, each group with its own live server and Chromium."""

    browser_bins: dict[str, int] | None = None

    def _browser_group(self, nodeid: str) -> str:
        if self.browser_bins is None:
            modules = [n.partition("::")[0] for n in self.collection or () if _in("browser", n)]
            counts = {module: modules.count(module) for module in modules}
            self.browser_bins = shared_out(counts, max(1, len(self.nodes)))
        return f"browser-{self.browser_bins.get(nodeid.partition('::')[0], 0)}"

    def _split_scope(self, nodeid: str) -> str:
        for marker in TOGETHER:
            if _in(marker, nodeid):
                return self._browser_group(nodeid) if marker == "browser" else marker
        return nodeid


def _in(marker: str, nodeid: str) -> bool:
    return nodeid.startswith(TOGETHER[marker])


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return TogetherScheduling(config, log)
