"""One world per test: the app in-process, every role logged in (tests/hardening/world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.hardening.world import Hardening, build
from tests.support import FrozenClock


@pytest.fixture
async def transport(settings: Settings, db: Database, clock: FrozenClock) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(settings, clock=clock, database=db))


@pytest.fixture
async def world(
    transport: httpx.ASGITransport, db: Database, clock: FrozenClock
) -> AsyncIterator[Hardening]:
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as api:
        built = await build(api, transport, db, clock)
        yield built
        for browser in built.browsers.values():
            await browser.client.aclose()
