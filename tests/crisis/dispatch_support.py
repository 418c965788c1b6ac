"""Helpers of the dispatcher tests: crises and deliveries written as the services write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from channels.base import ChannelHealth, Message, Receipt, Recipient
from channels.kinds import ChannelKind
from crisis.app.db import Database
from crisis.cell.crises import Crisis
from crisis.dispatch import outbox
from crisis.dispatch.outbox import Delivery, DeliveryRequest, Purpose, Rendering


async def make_crisis(db: Database, *, mode: str, now: datetime) -> int:
    async with db.transaction() as session:
        crisis = Crisis(
            title=f"Crue de la Somme ({mode})",
            kind="inondation",
            mode=mode,
            communes=["80021"],
            declared_at=now,
            declared_by="prefet",
        )
        session.add(crisis)
        await session.flush()
        assert crisis.id is not None
        return crisis.id


async def enqueue(
    db: Database,
    *,
    now: datetime,
    channel: str = "email",
    addresses: list[str],
    audience: str = "officials",
    crisis_id: int | None = None,
    exercise: bool = False,
    text: str = "Crue de la Somme : évacuation préventive de la rue basse à 18 h.",
    bulletin_id: int | None = None,
) -> None:
    async with db.transaction() as session:
        await outbox.enqueue(
            session,
            purpose=Purpose.BULLETIN,
            renderings=[Rendering(channel=channel, text=text, subject="Alerte crue")],
            requests=[
                DeliveryRequest(channel=channel, address=a, audience=audience) for a in addresses
            ],
            now=now,
            exercise=exercise,
            crisis_id=crisis_id,
            bulletin_id=bulletin_id,
        )


def emails(n: int, *, prefix: str = "maire") -> list[str]:
    return [f"{prefix}{i}@mairie-{i % 50}.fr" for i in range(n)]


async def deliveries(db: Database) -> list[Delivery]:
    async with db.read() as session:
        rows = await session.exec(sa.select(Delivery).order_by(Delivery.id))  # type: ignore[call-overload]
        return [row[0] for row in rows.all()]


async def statuses(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    for delivery in await deliveries(db):
        counts[delivery.status] = counts.get(delivery.status, 0) + 1
    return counts


@dataclass
class RecordingChannel:
    """A fake adapter that records every message it is handed."""

    kind_: ChannelKind
    label: str
    sent: list[tuple[Message, Recipient]] = field(default_factory=list)

    @property
    def kind(self) -> ChannelKind:
        return self.kind_

    @property
    def name(self) -> str:
        return self.label

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        self.sent.append((message, recipient))
        return Receipt(provider_id=f"{self.label}-{len(self.sent)}", raw_status="ok")

    async def check(self) -> ChannelHealth:
        return ChannelHealth(kind=self.kind_, name=self.label, ok=True, detail="ok")

    async def aclose(self) -> None:
        return None
