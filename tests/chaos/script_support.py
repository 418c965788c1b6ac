"""A crisis script played step by step against a real `tocsin serve`, and what must hold after
each SIGKILL and restart (issue 22 item 3): the journal verifies against its last signed
checkpoint, no clock alert went twice, no exercise traffic reached a real recipient."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from channels.sandbox.smtp import SmtpFake
from crisis import checkpoints, journal_verification
from crisis.app.db import Database
from tests.process_support import local_client
from tests.support import TestUser

ALERT_DELIVERIES_TWICE = (
    "SELECT count(*) FROM (SELECT address FROM delivery WHERE purpose = 'clock_alert'"
    " GROUP BY address, channel, message_id HAVING count(*) > 1) AS d"
)
EXERCISE_TO_REAL = (
    "SELECT count(*) FROM delivery d JOIN crisis c ON c.id = d.crisis_id"
    " WHERE c.mode = 'exercise' AND d.audience != 'exercise' AND d.status = 'sent'"
)
PLAYER_DOMAIN = "@exercice.test"


@dataclass(frozen=True)
class Request:
    """One step's request, built once: a resend after a kill is the same request, same key."""

    path: str
    user: TestUser
    body: dict[str, Any] | None = None
    key: str = ""


@dataclass
class Script:
    """The ids the steps hand each other, and the steps themselves (name, request builder)."""

    users: dict[str, TestUser]
    people: dict[str, int]
    players: list[int]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    ids: dict[str, int] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)

    async def send(self, url: str, name: str, request: Request) -> httpx.Response:
        headers = request.user.headers | {"Idempotency-Key": request.key or name}
        async with local_client(base_url=url, timeout=30) as client:
            answer = await client.post(request.path, json=request.body, headers=headers)
        assert answer.status_code in (200, 201), (name, answer.status_code, answer.text)
        self.answers[name] = self.answers.get(name, 0) + 1
        made = answer.json().get("id")
        if isinstance(made, int):
            self.ids.setdefault(name, made)
        return answer


Build = Callable[[Script], Request]


async def scalar(db: Database, query: str) -> object:
    async with db.read() as session:
        return await session.scalar(sa.text(query))


def latest_checkpoint(directory: Path) -> Path | None:
    written = sorted(directory.glob("global-*.json"), key=lambda p: p.stat().st_mtime)
    return written[-1] if written else None


async def journal_holds(db: Database, directory: Path, trusted: Ed25519PublicKey) -> int:
    """The global chain verified against its last checkpoint; that checkpoint's length."""
    path = latest_checkpoint(directory)
    assert path is not None, "no checkpoint written"
    read = checkpoints.parse(path.read_text("utf-8"))
    checkpoints.check_signature(read, trusted)
    async with db.read() as session:
        report = await journal_verification.verify(session, crisis_id=None, anchor=read.anchor)
    assert report.broken is None, report.broken
    return read.anchor.length


async def alerts_sent(db: Database) -> list[tuple[int | None, str, int]]:
    """Each clock alert the journal says was sent: (crisis, clock, threshold)."""
    async with db.read() as session:
        rows = await session.execute(
            sa.text(
                "SELECT crisis_id, payload FROM journal_entry WHERE action = 'clock.alert_sent'"
            )
        )
        payloads = [(crisis, json.loads(payload)) for crisis, payload in rows]
    return [(crisis, p["clock"], p["threshold_min"]) for crisis, p in payloads]


async def invariants(db: Database, real: SmtpFake, drill: SmtpFake) -> None:
    """What must hold after every restart, whatever step the kill fell on."""
    sent = await alerts_sent(db)
    assert len(sent) == len(set(sent)), sent
    assert await scalar(db, ALERT_DELIVERIES_TWICE) == 0
    assert await scalar(db, EXERCISE_TO_REAL) == 0
    leaked = [m for m in real.state.received if m.recipient.endswith(PLAYER_DOMAIN)]
    assert not leaked and not any("EXERCICE" in m.subject for m in real.state.received)
    assert all(m.recipient.endswith(PLAYER_DOMAIN) for m in drill.state.received)
