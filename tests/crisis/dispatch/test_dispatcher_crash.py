"""SIGKILL during a 5,000-delivery fan-out, restart: nothing lost, duplicates only in flight."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email import message_id
from channels.sandbox.smtp import SmtpFake
from crisis.app.db import Database
from tests.crisis.dispatch_support import deliveries, emails, enqueue
from tests.support import FrozenClock

MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE)
FAN_OUT = 5_000


@dataclass(slots=True, kw_only=True)
class KeyRecordingSmtp(SmtpFake):
    """The sandbox SMTP server, recording only (recipient, Message-ID): fast enough for 5,000."""

    keys: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        found = MESSAGE_ID.search(envelope.original_content or b"")
        key = found.group(1).decode() if found else ""
        self.keys.extend((recipient, key) for recipient in envelope.rcpt_tos)
        return "250 2.0.0 Accepted"


async def _start_worker(url: str, port: int, root: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.crisis.dispatch_worker",
        url,
        str(port),
        "2",
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


async def _until(predicate: Any, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_fan_out_killed_mid_way_completes_after_restart_with_duplicates_only_in_flight(
    db: Database, clock: FrozenClock, database_url: str, project_root: Path
) -> None:
    server = KeyRecordingSmtp()
    await server.start()
    try:
        await enqueue(db, now=clock.now(), addresses=emails(FAN_OUT, prefix="elu"))
        first = await _start_worker(database_url, server.port, project_root)
        await _until(lambda: len(server.keys) >= FAN_OUT // 3, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = await deliveries(db)
        in_flight = {d.address for d in at_kill if d.status == "sending"}
        sent_before = sum(d.status == "sent" for d in at_kill)
        assert 0 < sent_before < FAN_OUT

        second = await _start_worker(database_url, server.port, project_root)
        assert await asyncio.wait_for(second.wait(), 90) == 0
    finally:
        await server.stop()

    final = await deliveries(db)
    assert {d.status for d in final} == {"sent"}
    assert len(final) == FAN_OUT
    received: dict[str, list[str]] = {}
    for recipient, key in server.keys:
        received.setdefault(recipient, []).append(key)
    assert set(received) == {d.address for d in final}  # none lost
    duplicated = {address for address, keys in received.items() if len(keys) > 1}
    assert duplicated <= in_flight
    for delivery in final:
        expected = message_id(idempotency_key=delivery.idempotency_key, domain="tocsin.local")
        assert set(received[delivery.address]) == {expected}
        if delivery.address in duplicated:
            assert delivery.attempts >= 2
