"""Helpers of the reply tests: Tocsin served over real HTTP, the fakes answering to it."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from channels.sandbox import Sandbox
from channels.sandbox.http import HttpServer
from crisis.app.db import Database
from crisis.app.dispatch import confirmation_links, dispatcher_from_config
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.support import FrozenClock

TELEGRAM_SECRET = "telegram-webhook-secret-of-the-test"
SMS_SECRET = "sms-gateway-secret-of-the-test"
EXERCISE_TELEGRAM_SECRET = "exercise-telegram-secret-of-the-test"
EXERCISE_SMS_SECRET = "exercise-sms-secret-of-the-test"
CODE = re.compile(r"OK(?:\s|\u00a0)(\d{4})")


def with_inbound_secrets(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "inbound_telegram_secret": SecretStr(TELEGRAM_SECRET),
            "inbound_sms_secret": SecretStr(SMS_SECRET),
            "exercise_inbound_telegram_secret": SecretStr(EXERCISE_TELEGRAM_SECRET),
            "exercise_inbound_sms_secret": SecretStr(EXERCISE_SMS_SECRET),
        }
    )


@asynccontextmanager
async def tocsin_served(
    settings: Settings, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> AsyncIterator[str]:
    """Tocsin on a loopback port, and the sandbox's replies pointed at it (real lane)."""
    server = HttpServer(create_app(settings, clock=clock, database=db))
    await server.start()
    sandbox.answer_to(server.url, telegram_secret=TELEGRAM_SECRET, sms_secret=SMS_SECRET)
    try:
        yield server.url
    finally:
        await server.stop()


async def dispatch(db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox) -> None:
    """One pass of the real dispatcher (both channel sets on the fakes), personalising texts
    as `serve` does."""
    config = sandbox.config()
    worker = dispatcher_from_config(
        db=db,
        channels=config,
        exercise_channels=config,
        rng=random.Random(1),
        personalise=confirmation_links(settings),
    )
    await worker.run(clock.now())
    await worker.aclose()


async def answer(sandbox: Sandbox, fake: str, **form: str) -> dict[str, Any]:
    """A person answers through the fake's `POST /_sandbox/reply`; Tocsin's answer."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sandbox.urls[fake]}/_sandbox/reply", json=form)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, text
    return match.group(1)
