"""ES48 coverage: have the officials, the media and the public been informed since the COD?

Computed from the bulletin deliveries of the crisis created at or after the COD's
`activated_at`. Officials and media: every targeted contact (distinct `contact_id` of that
audience, `to_call` rows included) has a delivery `sent` or `confirmed`. Public: at least one
public channel delivery `sent`. In an exercise, every delivery has audience `exercise` and the
audience its recipient plays is `played_audience`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch.outbox import Delivery, DeliveryStatus, Purpose
from crisis.vocabulary import Audience

AUDIENCES: tuple[str, ...] = (Audience.OFFICIALS, Audience.MEDIA, Audience.PUBLIC)
DELIVERED = frozenset({DeliveryStatus.SENT.value, DeliveryStatus.CONFIRMED.value})


@dataclass(frozen=True, slots=True)
class AudienceCoverage:
    covered_at: datetime | None
    reached: int
    total: int
    missing: tuple[str, ...]

    def view(self) -> dict[str, Any]:
        return {
            "covered_at": self.covered_at.isoformat() if self.covered_at else None,
            "reached": self.reached,
            "total": self.total,
            "missing": list(self.missing),
        }


@dataclass(frozen=True, slots=True)
class Coverage:
    officials: AudienceCoverage
    media: AudienceCoverage
    public: AudienceCoverage

    @property
    def met_at(self) -> datetime | None:
        """The last of the three instants, once all three audiences are covered."""
        instants = [self.officials.covered_at, self.media.covered_at, self.public.covered_at]
        if any(instant is None for instant in instants):
            return None
        return max(i for i in instants if i is not None)

    def view(self) -> dict[str, Any]:
        return {name: getattr(self, name).view() for name in AUDIENCES}


def _reached_at(
    status: str, sent_at: datetime | None, confirmed_at: datetime | None, created_at: datetime
) -> datetime:
    if status == DeliveryStatus.CONFIRMED:
        return confirmed_at or sent_at or created_at
    return sent_at or created_at


def _people(rows: list[sa.Row[Any]]) -> AudienceCoverage:
    names: dict[int, str] = {}
    reached: dict[int, datetime] = {}
    for contact_id, name, _channel, status, sent_at, confirmed_at, created_at in rows:
        if contact_id is None:
            continue
        names.setdefault(contact_id, name)
        if status in DELIVERED:
            at = _reached_at(status, sent_at, confirmed_at, created_at)
            reached[contact_id] = min(at, reached.get(contact_id, at))
    missing = sorted(names[c] for c in names if c not in reached)
    covered_at = max(reached.values()) if names and not missing else None
    return AudienceCoverage(covered_at, len(reached), len(names), tuple(missing))


def _public(rows: list[sa.Row[Any]]) -> AudienceCoverage:
    channels: set[str] = set()
    sent: dict[str, datetime] = {}
    for _contact, _name, channel, status, sent_at, _confirmed, created_at in rows:
        channels.add(channel)
        if status == DeliveryStatus.SENT:
            at = sent_at or created_at
            sent[channel] = min(at, sent.get(channel, at))
    covered_at = min(sent.values()) if sent else None
    missing = tuple(sorted(channels - set(sent)))
    return AudienceCoverage(covered_at, len(sent), len(channels), missing)


async def es48(
    session: AsyncSession, *, crisis_id: int, since: datetime, exercise: bool
) -> Coverage:
    table = Delivery.__table__  # type: ignore[attr-defined]
    c = table.c
    audience = c.played_audience if exercise else c.audience
    query = (
        sa.select(
            audience,
            c.contact_id,
            c.recipient_name,
            c.channel,
            c.status,
            c.sent_at,
            c.confirmed_at,
            c.created_at,
        )
        .where(
            c.crisis_id == crisis_id,
            c.purpose == Purpose.BULLETIN.value,
            c.created_at >= since,
            audience.in_(AUDIENCES),
            c.status != DeliveryStatus.CANCELLED.value,
        )
        .order_by(col(c.id))
    )
    rows = (await (await session.connection()).execute(query)).all()
    grouped: dict[str, list[sa.Row[Any]]] = {name: [] for name in AUDIENCES}
    for row in rows:
        grouped[row[0]].append(row[1:])  # type: ignore[arg-type]
    return Coverage(
        officials=_people(grouped[Audience.OFFICIALS]),
        media=_people(grouped[Audience.MEDIA]),
        public=_public(grouped[Audience.PUBLIC]),
    )
