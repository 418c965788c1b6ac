from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.public.support import BASE_URL
from tests.support import FrozenClock


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings.model_copy(update={"base_url": BASE_URL}), clock=clock, database=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http
