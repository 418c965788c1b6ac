"""Several `tocsin worker` processes on one PostgreSQL database: their fixtures (the sandbox
SMTP and Telegram servers, a starter that stops them all at the end) and the timings they run
with (tests/crisis/app/test_instances.py, tests/chaos/test_instances_chaos.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.sandbox import TELEGRAM_TOKEN
from channels.sandbox.http import HttpServer
from channels.sandbox.smtp import SmtpFake
from channels.sandbox.telegram_api import TelegramFake
from crisis.app.db import Database
from tests.process_support import UNSETTLED, scalar, service_env
from tests.support import FrozenClock

# Shortened for CI; TOCSIN_INSTANCES_DEFAULT_TIMINGS=1 measures with the defaults (2, 6, 8 s).
DEFAULTS = bool(os.environ.get("TOCSIN_INSTANCES_DEFAULT_TIMINGS"))
HEARTBEAT, DEAD_AFTER, LEASE = (2.0, 6.0, 8.0) if DEFAULTS else (0.5, 2.0, 3.0)


@dataclass
class Worker:
    process: asyncio.subprocess.Process

    @property
    def name(self) -> str:
        return f"{socket.gethostname()}:{self.process.pid}"

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)


@pytest.fixture(autouse=True)
def wall_clock(clock: FrozenClock) -> None:
    """The workers run on the wall clock: rows are written at its time too."""
    clock.current = datetime.now(UTC)


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramFake, str]]:
    """The Telegram fake that refuses (429) a 31st message within a second, and its URL."""
    fake = TelegramFake(token=TELEGRAM_TOKEN)
    server = HttpServer(fake.app())
    await server.start()
    yield fake, server.url
    await server.stop()


@pytest.fixture
async def start(
    database_url: str,
    smtp: SmtpFake,
    telegram: tuple[TelegramFake, str],
    project_root: Path,
) -> AsyncIterator[Callable[[], asyncio.Future[Worker]]]:
    started: list[Worker] = []
    env = (
        os.environ
        | service_env(smtp, rate=200, secret="instances-test")
        | {
            "TOCSIN_CHANNELS__TELEGRAM__SANDBOX": "true",
            "TOCSIN_CHANNELS__TELEGRAM__TOKEN": TELEGRAM_TOKEN,
            "TOCSIN_CHANNELS__TELEGRAM__BASE_URL": telegram[1] + "/bot",
            # Small claims, so that every instance holds part of the fan-out.
            "TOCSIN_DISPATCH__CLAIM_SIZE": "25",
            "TOCSIN_DISPATCH__WINDOW": "50",
            "TOCSIN_HEARTBEAT_SECONDS": str(HEARTBEAT),  # the figures printed with -s
            "TOCSIN_INSTANCE_DEAD_AFTER_SECONDS": str(DEAD_AFTER),
            "TOCSIN_LEADER_LEASE_SECONDS": str(LEASE),
        }
    )

    async def one() -> Worker:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "crisis", "worker", "--db", database_url),
            cwd=project_root,
            env=env,
        )
        worker = Worker(process)
        started.append(worker)
        return worker

    yield lambda: asyncio.ensure_future(one())
    for worker in started:
        if worker.process.returncode is None:
            worker.signal(signal.SIGCONT)
            worker.process.kill()
            await worker.process.wait()


async def settled(db: Database) -> bool:
    return await scalar(db, UNSETTLED) == 0


async def alive(db: Database, count: int) -> bool:
    live = "SELECT count(*) FROM dispatch_instance WHERE stopped_at IS NULL"
    return await scalar(db, live) == count
