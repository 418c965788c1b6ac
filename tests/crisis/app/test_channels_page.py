from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


@pytest.fixture
async def sandbox_client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with Sandbox() as sandbox:
        configured = settings.model_copy(update={"exercise_channels": sandbox.config()})
        app = create_app(configured, clock=clock, database=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
            yield http


async def test_an_admin_sees_which_channels_are_configured_healthy_and_in_sandbox(
    sandbox_client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    await log_in(sandbox_client, admin.login, admin.password)
    page = await sandbox_client.get("/canaux")
    assert page.status_code == 200
    real, exercise = page.text.split("<h2>")[1:]
    assert "Opérationnel" not in real and "Non configuré" in real
    assert exercise.count("Opérationnel") >= 6 and "Bac à sable" in exercise
    assert "test-token" not in page.text.lower()


async def test_the_channels_page_is_refused_to_a_communicator(
    sandbox_client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com", "communicator")
    await log_in(sandbox_client, user.login, user.password)
    assert (await sandbox_client.get("/canaux")).status_code == 403
