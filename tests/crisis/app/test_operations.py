"""What docs/operations.md promises: ticks end before a stop, pools sized by the settings,
one metrics scrape for web and worker, quiet demo logs."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry, Counter, start_http_server

from channels.config import ChannelsConfig, SmtpConfig
from channels.sandbox.smtp import SmtpFake
from crisis import passwords
from crisis.app.background import Background, build_background
from crisis.app.db import Database
from crisis.app.dispatch import build_dispatcher
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.app.worker import free_loopback_port
from tests.conftest import PRODUCTION_HASHER
from tests.crisis.app.test_live import Stream
from tests.crisis.dispatch_support import emails, enqueue
from tests.support import FrozenClock, make_user


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
    assert pool._max_overflow == 2  # type: ignore[attr-defined]


async def test_the_web_metrics_include_the_worker_ones(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    registry = CollectorRegistry()
    Counter("tocsin_dispatch_sent", "Sent.", registry=registry).inc(7)
    port = free_loopback_port()
    exporter, _ = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        worker_url = f"http://127.0.0.1:{port}/metrics"
        with_worker = settings.model_copy(update={"worker_metrics_url": worker_url})
        app = create_app(with_worker, database=db)
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


async def test_readyz_answers_503_while_the_worker_child_is_down_and_200_once_it_listens(
    settings: Settings, db: Database
) -> None:
    port = free_loopback_port()
    app = create_app(
        settings.model_copy(update={"worker_metrics_url": f"http://127.0.0.1:{port}/metrics"}),
        database=db,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
    ) as client:
        down = await client.get("/readyz")
        exporter, _ = start_http_server(port, addr="127.0.0.1", registry=CollectorRegistry())
        try:
            up = await client.get("/readyz")
        finally:
            exporter.shutdown()
    assert down.status_code == 503 and down.json()["worker"] == "arrêté"
    assert up.status_code == 200 and up.json()["status"] == "ready"


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

    monkeypatch.setattr(passwords, "_hasher", Recording())
    assert not await passwords.password_verified(None, "n'importe lequel")
    assert seen and loop_thread not in seen


def test_passwords_are_hashed_at_argon2s_recommended_cost_outside_the_tests() -> None:
    """The suite hashes at argon2's smallest cost (tests/conftest.py); Tocsin itself does not."""
    assert PRODUCTION_HASHER.time_cost >= 3 and PRODUCTION_HASHER.memory_cost >= 64 * 1024
    assert PRODUCTION_HASHER.hash("un mot de passe").startswith("$argon2id$")


@dataclass(slots=True, kw_only=True)
class SlowSmtp(SmtpFake):
    """A relay that takes its time over each message, as a real one does."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.03)
        return await SmtpFake.handle_DATA(self, server, session, envelope)


HELD_IN_TRANSACTION = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
    " AND clock_timestamp() - state_change > interval '500 milliseconds'"
)


async def test_no_connection_waits_idle_in_transaction_during_a_fan_out_and_a_live_stream(
    settings: Settings, db: Database, clock: FrozenClock, database_url: str
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    smtp = SlowSmtp()
    await smtp.start()
    smtp_config = SmtpConfig(
        sandbox=True, host="127.0.0.1", port=smtp.port, security="none", rate_per_second=1000
    )
    configured = settings.model_copy(update={"channels": ChannelsConfig(smtp=smtp_config)})
    background = build_background(
        db, clock, tick_seconds=0.2, dispatcher=build_dispatcher(configured, db, clock)
    )
    user = await make_user(db, clock, "veilleur", "operator")
    app = create_app(configured, clock=clock, database=db, background=background.running)
    await enqueue(db, now=clock.now(), addresses=emails(400))
    observer = Database.from_url(database_url)
    held: list[int] = []
    try:
        async with app.router.lifespan_context(app), Stream(app, user.token).open() as stream:
            assert (await stream.next()).startswith(": prêt")
            async with asyncio.timeout(120):
                while len(smtp.state.received) < 400:
                    async with observer.engine.connect() as connection:
                        held.append(await connection.scalar(HELD_IN_TRANSACTION) or 0)
                    await asyncio.sleep(0.05)
    finally:
        await observer.dispose()
        await smtp.stop()
    assert len(held) > 10 and max(held) == 0
