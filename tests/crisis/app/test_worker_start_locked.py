"""A worker starting while another process holds SQLite's write lock past the busy timeout (a
big `tocsin contacts import`) waits for it: it used to die, and `tocsin serve` went on serving
pages with nothing sent and no clock alert (seen in the load bench of issue 22, point 5)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from crisis.app import bootstrap
from crisis.app import db as db_module
from crisis.app.background import Background
from crisis.app.db import Database
from tests.support import FrozenClock


async def test_a_worker_starting_during_a_long_import_waits_for_the_lock_instead_of_dying(
    tmp_path: Path,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(db_module, "BUSY_MS", 50)  # the 30 s of production, shortened
    path = tmp_path / "tocsin.db"
    db = Database.from_url(f"sqlite:///{path}")
    await bootstrap.prepare(db, f"sqlite:///{path}")
    importer = sqlite3.connect(path, isolation_level=None)  # another process' long write
    importer.execute("BEGIN IMMEDIATE")
    caplog.set_level(logging.WARNING, logger="tocsin.background")
    registering = asyncio.create_task(Background(db=db, clock=clock)._register())
    try:
        while "registering again" not in caplog.text:
            assert not registering.done(), registering.exception()
            await asyncio.sleep(0.05)
        importer.execute("COMMIT")  # the import ends
        await asyncio.wait_for(registering, timeout=30)
        async with db.read() as session:
            live = (await session.execute(sa.text("SELECT count(*) FROM dispatch_instance"))).one()
    finally:
        importer.close()
        await db.dispose()
    assert live[0] == 1
