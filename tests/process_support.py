"""What the tests that run `tocsin serve` or `tocsin worker` as processes share: a free port,
waiting for a condition, readiness, the sandbox SMTP server and the environment that sends to
it, and the deliveries not yet settled."""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import sqlalchemy as sa

from channels.sandbox.smtp import SmtpFake
from crisis.app.db import Database

UNSETTLED = "SELECT count(*) FROM delivery WHERE status IN ('pending', 'retrying', 'sending')"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until(predicate: Callable[[], object], *, timeout: float, every: float = 0.05) -> float:
    """Wait until ``predicate`` holds (awaited if it is a coroutine); the seconds it took."""
    began = time.monotonic()
    while True:
        found = predicate()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return time.monotonic() - began
        assert time.monotonic() - began < timeout, "timed out"
        await asyncio.sleep(every)


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def local_client(*, timeout: float, base_url: str = "") -> httpx.AsyncClient:
    """A client for a service started on loopback. httpx loads the CA bundle again for each
    client made without one (20 ms of processor): polled every 50 ms while a service starts,
    that slowed the very start the test waited for."""
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, verify=_tls())


async def answers(url: str) -> bool:
    """Whether the service at ``url`` answers ``/readyz`` with 200."""
    try:
        async with local_client(timeout=0.5) as client:
            return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def scalar(db: Database, query: str, **params: object) -> object:
    async with db.read() as session:
        return await session.scalar(sa.text(query), params)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpFake]:
    fake = SmtpFake()
    await fake.start()
    yield fake
    await fake.stop()


def service_env(smtp: SmtpFake, *, rate: int, secret: str = "chaos-test") -> dict[str, str]:
    """A `tocsin serve` or `tocsin worker` sending its e-mail to ``smtp``, quietly."""
    return {
        "TOCSIN_SECRET_KEY": secret,
        "TOCSIN_JSON_LOGS": "false",
        "TOCSIN_LOG_LEVEL": "WARNING",
        "TOCSIN_CHANNELS__SMTP__HOST": "127.0.0.1",
        "TOCSIN_CHANNELS__SMTP__PORT": str(smtp.port),
        "TOCSIN_CHANNELS__SMTP__SECURITY": "none",
        "TOCSIN_CHANNELS__SMTP__RATE_PER_SECOND": str(rate),
    }
