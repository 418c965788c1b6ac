"""The database: URL handling, engine, and one transaction per user action."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.sqlite_driver import Inline, OneTripDBAPI, inline
from crisis.app.write_turns import WriteTurns

WRITE_OPTION = "tocsin_write"
BUSY_OPTION = "tocsin_busy_ms"
BUSY_MS = 30_000  # how long a SQLite write waits for another's lock, by default


class DatabaseSettings(Protocol):
    database_url: str
    db_pool_size: int
    db_max_overflow: int


def async_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"base de données non prise en charge : {backend}")


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic offline checks)."""
    parsed = make_url(async_url(url))
    driver = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+asyncpg"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for writers (no upgrade deadlocks)."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        busy = int(options.get(BUSY_OPTION, BUSY_MS))
        if conn.info.get(BUSY_OPTION, BUSY_MS) != busy:  # a brief write, or back from one
            conn.exec_driver_sql(f"PRAGMA busy_timeout={busy}")
            conn.info[BUSY_OPTION] = busy
        immediate = options.get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        kwargs.setdefault("module", OneTripDBAPI())
        # Statements may run on the event loop's thread (`sqlite_driver.inline`).
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


_READING = re.compile(r"\s*(SELECT|WITH|SHOW)\b", re.IGNORECASE)
_LOCKING = re.compile(r"\bFOR (UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\b", re.IGNORECASE)


def _refuse_writes(
    _conn: sa.Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: DefaultExecutionContext | None,
    _executemany: bool,
) -> None:
    """A statement of a read on PostgreSQL that would write, or lock rows (which only a
    transaction would keep), is a mistake in the code: refused before it runs."""
    writes = context is not None and (
        context.isinsert or context.isupdate or context.isdelete or context.isddl
    )
    if writes or not _READING.match(statement) or _LOCKING.search(statement):
        raise sa.exc.InvalidRequestError(f"a read cannot write or lock: {statement[:80]!r}")


class Database:
    """Sessions for reads, and write transactions that commit or roll back as a whole."""

    def __init__(self, engine: AsyncEngine, *, brief_busy_ms: int = 1_000) -> None:
        self.engine = engine
        # A brief write (the dispatcher's claims, the heartbeat's recoveries) waits this long
        # for SQLite's lock before it is retried (``crisis.dispatch.transactions.write``).
        self.brief_busy_ms = brief_busy_ms
        postgresql = engine.dialect.name == "postgresql"
        # On PostgreSQL a read runs each statement on its own (autocommit): no BEGIN nor
        # ROLLBACK, each a round trip and a turn of the event loop. READ COMMITTED gave no
        # more: each statement sees what is committed when it starts. A statement that would
        # write is refused, as the READ ONLY transaction of a read did (`_refuse_writes`).
        self._read_engine = engine
        if postgresql:
            self._read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            sa.event.listen(self._read_engine.sync_engine, "before_cursor_execute", _refuse_writes)
        self._reader = async_sessionmaker(
            self._read_engine, class_=AsyncSession, expire_on_commit=False
        )
        # One moment throughout: on PostgreSQL a READ ONLY, REPEATABLE READ transaction.
        snapshots = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        self._snapshot_reader = async_sessionmaker(
            engine.execution_options(**snapshots) if postgresql else engine,
            class_=AsyncSession,
            expire_on_commit=False,
        )
        self._writer = async_sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )
        self._after_commit: list[Callable[[], None]] = []
        self._turns = WriteTurns() if engine.dialect.name == "sqlite" else None
        # Statements on the event loop's thread (`sqlite_driver`), for connections lent to one
        # task at a time (not the one static in-memory connection).
        own = engine.dialect.name == "sqlite" and not isinstance(engine.pool, StaticPool)
        self._reads = Inline.READS if own else Inline.NONE
        self._writes = Inline.WRITES if own else Inline.NONE
        # Where closing a session awaits nothing, it runs at once (`_session`): a read on
        # PostgreSQL (no transaction to end) or on SQLite's own connections, and on those a
        # transaction too (its statements run on this thread).
        self._reads_close_at_once = own or postgresql
        self._transactions_close_at_once = own

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        """The service's database, its pool sized by the settings (docs/operations.md)."""
        if make_url(settings.database_url).database in (None, "", ":memory:"):
            return cls.from_url(settings.database_url)  # one static connection, no pool to size
        return cls.from_url(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Reads for one page or one step: the connection goes back to the pool when the block
        ends; never hold the block across an await on something else (a channel, a sleep)."""
        with inline(self._reads):
            async with self._session(self._reader, at_once=self._reads_close_at_once) as session:
                yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """``read`` that sees the database as it was at its first statement throughout, for
        rows streamed as they are read (a CSV export): on PostgreSQL a READ ONLY, REPEATABLE
        READ transaction, which a server-side cursor needs; on SQLite any read does."""
        at_once = self._transactions_close_at_once
        with inline(self._reads):
            async with self._session(self._snapshot_reader, at_once=at_once) as session:
                yield session

    @asynccontextmanager
    async def read_rows(self) -> AsyncIterator[AsyncConnection]:
        """``read`` for plain rows, without an ORM session (the token read of each API
        request)."""
        with inline(self._reads):
            if not self._reads_close_at_once:
                async with self._read_engine.connect() as conn:
                    yield conn
                return
            conn = await self._read_engine.connect()
            try:
                yield conn
            finally:
                await conn.close()  # at once, as `_session` says

    @asynccontextmanager
    async def _session(
        self, maker: async_sessionmaker[AsyncSession], *, at_once: bool
    ) -> AsyncIterator[AsyncSession]:
        """A session closed when the block ends. SQLAlchemy's own exit closes it in a task of
        its own, so that a cancellation cannot cut the closing short: two turns of the event
        loop for every read and write, and under load a turn took 0.1 to 0.2 s (page requests
        waited in them for their connection, writes held their turn). ``at_once`` where the
        closing awaits nothing, so nothing can cut it short: a ROLLBACK of nothing and the
        connection back to the pool, on the loop's thread (SQLite), or no transaction to end
        (PostgreSQL's reads). A statement cut by a cancellation has already discarded its
        connection (SQLAlchemy invalidates it), so the closing never meets one mid-way."""
        if not at_once:
            async with maker() as session:
                yield session
            return
        session = maker()
        try:
            yield session
        finally:
            with inline(Inline.READS):  # a write's statements may let the loop run; not this
                await session.close()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` after each write transaction of this process commits (the live
        pages hear this process' own writes at once, without waiting for their poll)."""
        self._after_commit.append(hook)

    def _committed(self) -> None:
        for hook in self._after_commit:
            hook()

    @asynccontextmanager
    async def _turn(self, *, wait_ms: int) -> AsyncIterator[None]:
        """On SQLite, this process' writers one after the other (`write_turns`)."""
        if self._turns is None:
            yield
            return
        async with self._turns.taken(wait_ms=wait_ms):
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One user action: everything inside commits together, or nothing does."""
        with inline(self._writes):
            async with (
                self._turn(wait_ms=BUSY_MS),
                self._session(self._writer, at_once=self._transactions_close_at_once) as session,
                session.begin(),
            ):
                yield session
        self._committed()

    @asynccontextmanager
    async def brief_transaction(self) -> AsyncIterator[AsyncSession]:
        """``transaction`` that gives up on SQLite's lock after ``brief_busy_ms`` (« database
        is locked »), for a caller that retries it with a bound rather than stall 30 s."""
        if self.dialect != "sqlite":
            async with self.transaction() as session:
                yield session
            return
        options = {WRITE_OPTION: True, BUSY_OPTION: self.brief_busy_ms}
        bind = self.engine.execution_options(**options)
        with inline(self._writes):
            async with (
                self._turn(wait_ms=self.brief_busy_ms),
                AsyncSession(bind, expire_on_commit=False) as session,
                session.begin(),
            ):
                yield session
        self._committed()

    async def dispose(self) -> None:
        await self.engine.dispose()
