"""A request that waits past the pool's timeout for a database connection gets a 503 with
`Retry-After` (the service is saturated), not a 500 (seen under the load bench of issue 22)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from crisis.app import bootstrap
from crisis.app import db as db_module
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.support import FrozenClock, make_user


async def test_a_request_finding_no_free_connection_in_time_is_told_to_retry_later(
    tmp_path: Path, clock: FrozenClock
) -> None:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    db = Database.from_url(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    await bootstrap.prepare(db, url)
    settings = Settings(
        database_url=url, secret_key=SecretStr("t" * 40), scheduler_enabled=False, json_logs=False
    )
    app = create_app(settings, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http,
            db.engine.connect(),  # the pool's only connection, held
        ):
            api = await http.get("/api/v1/crises", headers={"Authorization": "Bearer jeton"})
    finally:
        await db.dispose()
    assert api.status_code == 503, api.text
    assert api.headers["Retry-After"] == "5" and "overloaded" in api.text


async def test_a_write_finding_sqlites_lock_held_past_the_busy_timeout_is_told_to_retry_later(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "BUSY_MS", 50)  # the 30 s of production, shortened
    path = tmp_path / "tocsin.db"
    url = f"sqlite:///{path}"
    db = Database.from_url(url)
    await bootstrap.prepare(db, url)
    prefect = await make_user(db, clock, "prefete", "prefect")
    settings = Settings(
        database_url=url, secret_key=SecretStr("t" * 40), scheduler_enabled=False, json_logs=False
    )
    app = create_app(settings, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    writer = sqlite3.connect(path, isolation_level=None)  # another process' long write
    writer.execute("BEGIN IMMEDIATE")
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
            body = {"title": "Crue", "kind": "crue", "mode": "real", "communes": ["80001"]}
            answer = await http.post("/api/v1/crises", json=body, headers=prefect.headers)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await db.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
