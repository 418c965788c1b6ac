"""What docs/operations.md promises: ticks end before a stop, pools sized by the settings,
short read-only reads, one metrics scrape for web and worker, quiet demo logs."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import threading
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, start_http_server

from channels.sandbox.smtp import SmtpFake
from crisis import accounts
from crisis.app.background import Background
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.app.worker import free_loopback_port
from tests.support import FrozenClock


async def test_a_stop_lets_the_tick_under_way_finish_before_the_channels_close(
    db: Database, clock: FrozenClock
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    events: list[str] = []

    async def slow_tick(_now: datetime) -> None:
        started.set()
        await release.wait()
        events.append("tick finished")

    async def close() -> None:
        events.append("channels closed")

    background = Background(db=db, clock=clock)
    background.every("dispatch", 0.01, slow_tick, leader_only=False)
    background.at_stop(close)

    async def run() -> None:
        async with background.running():
            await started.wait()

    stopping = asyncio.create_task(run())
    await started.wait()
    await asyncio.sleep(0)
    assert not stopping.done()  # the stop waits for the tick
    release.set()
    await stopping
    assert events == ["tick finished", "channels closed"]


def test_the_pool_is_sized_by_the_settings(database_url: str) -> None:
    settings = Settings(database_url=database_url, db_pool_size=3, db_max_overflow=2)
    database = Database.from_settings(settings)
    pool = database.engine.pool
    assert pool.size() == 3  # type: ignore[attr-defined]
    assert pool._max_overflow == 2  # type: ignore[attr-defined]  # noqa: SLF001


async def test_on_postgresql_a_read_cannot_write(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("READ ONLY transactions are PostgreSQL's")
    async with db.read() as session:
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            await session.execute(sa.text("CREATE TEMPORARY TABLE scratch (x int)"))


async def test_the_web_metrics_include_the_worker_ones(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    registry = CollectorRegistry()
    Counter("tocsin_dispatch_sent", "Sent.", registry=registry).inc(7)
    port = free_loopback_port()
    exporter, _ = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        worker_url = f"http://127.0.0.1:{port}/metrics"
        app = create_app(settings.model_copy(update={"worker_metrics_url": worker_url}), database=db)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
        ) as client:
            text = (await client.get("/metrics")).text
    finally:
        exporter.shutdown()
    assert "tocsin_dispatch_sent_total 7.0" in text
    assert "tocsin_http_requests_total" in text or "# TYPE tocsin_http" in text


async def test_the_web_metrics_answer_when_the_worker_does_not(
    settings: Settings, db: Database
) -> None:
    gone = f"http://127.0.0.1:{free_loopback_port()}/metrics"
    app = create_app(settings.model_copy(update={"worker_metrics_url": gone}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
    ) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200 and "# worker metrics unavailable" in answer.text


async def test_the_sandbox_smtp_logs_one_line_per_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    smtp = SmtpFake()
    await smtp.start()
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "p@prefecture.fr", "maire@mairie.fr", "Crue"
    mail.set_content("Évacuation préventive.")

    def send() -> None:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.send_message(mail)

    try:
        await asyncio.to_thread(send)
    finally:
        await smtp.stop()
    assert len(smtp.state.received) == 1
    assert [r.name for r in caplog.records] == ["tocsin.sandbox.smtp"]


async def test_passwords_are_checked_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.current_thread()
    seen: list[threading.Thread] = []

    class Recording(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            seen.append(threading.current_thread())
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_hasher", Recording())
    assert not await accounts.password_verified(None, "n'importe lequel")
    assert seen and loop_thread not in seen
