"""Helpers for the lifecycle and clock suites: on-call people, crises, hand-made deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact, ContactChannel
from contacts.roster import Shift
from crisis.actors import Actor, Role
from crisis.cell import crises, lifecycle
from crisis.cell.crises import Crisis
from crisis.cell.lifecycle import LifecycleRules
from crisis.dispatch.outbox import UNSETTLED_STATUSES, Delivery, OutboxMessage
from crisis.vocabulary import CrisisMode

PREFECT = Actor(1, "prefet", frozenset({Role.PREFECT}))
COMMUNICATOR = Actor(2, "com", frozenset({Role.COMMUNICATOR}))
RULES = LifecycleRules(base_url="http://tocsin.test")


async def add_contact(
    session: AsyncSession,
    *,
    name: str,
    audience: str = "staff",
    channel: tuple[str, str] | None = ("email", ""),
    now: datetime,
) -> int:
    first, _, last = name.partition(" ")
    contact = Contact(
        key=f"test:{uuid.uuid4().hex}",
        audience=audience,
        function="agent_permanence" if audience in ("staff", "exercise") else "maire",
        first_name=first,
        last_name=last or first,
        area_level="departement",
        area_code="80",
        departement="80",
        updated_at=now,
    )
    session.add(contact)
    await session.flush()
    assert contact.id is not None
    if channel is not None:
        kind, address = channel
        address = address or f"{first.lower()}.{contact.id}@somme.gouv.fr"
        session.add(ContactChannel(contact_id=contact.id, kind=kind, address=address))
        await session.flush()
    return contact.id


async def add_on_call(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    level: int,
    now: datetime,
    audience: str = "staff",
    channel: tuple[str, str] | None = ("email", ""),
) -> int:
    contact_id = await add_contact(session, name=name, audience=audience, channel=channel, now=now)
    session.add(
        Shift(
            role=role,
            level=level,
            contact_id=contact_id,
            name=name,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=6),
        )
    )
    await session.flush()
    return contact_id


async def roster(
    session: AsyncSession, *, now: datetime, audience: str = "staff"
) -> dict[str, int]:
    """Levels 1 and 2 for communication and validator, level 1 for the prefect."""
    people = {
        "Camille Com1": ("communication", 1),
        "Bruno Com2": ("communication", 2),
        "Valérie Val1": ("validator", 1),
        "Victor Val2": ("validator", 2),
        "Paule Pref1": ("prefect", 1),
    }
    return {
        name: await add_on_call(
            session, name=name, role=role, level=level, now=now, audience=audience
        )
        for name, (role, level) in people.items()
    }


async def new_crisis(
    session: AsyncSession, *, now: datetime, mode: CrisisMode = CrisisMode.REAL, kind: str = "crue"
) -> Crisis:
    crisis = await crises.declare(
        session,
        actor=PREFECT,
        title="Crue de la Somme",
        kind=kind,
        mode=mode,
        communes=["80001", "80021"],
        now=now,
    )
    return crisis


async def ordered_crisis(
    session: AsyncSession, *, now: datetime, mode: CrisisMode = CrisisMode.REAL
) -> int:
    crisis = await new_crisis(session, now=now, mode=mode)
    assert crisis.id is not None
    await lifecycle.order_cell(session, actor=PREFECT, crisis_id=crisis.id, rules=RULES, now=now)
    return crisis.id


async def cod_crisis(
    session: AsyncSession, *, now: datetime, mode: CrisisMode = CrisisMode.REAL
) -> int:
    """A crisis whose cell is operational and whose COD was activated `now` (ES48 running)."""
    crisis = await new_crisis(session, now=now, mode=mode)
    assert crisis.id is not None
    crisis.status = "cell_operational"
    session.add(crisis)
    await lifecycle.record_cod(
        session,
        actor=PREFECT,
        crisis_id=crisis.id,
        activated_at=now,
        synergi_ref="SYN-80-1",
        decided_by="Préfète",
        rules=RULES,
        now=now,
    )
    return crisis.id


async def delivery(
    session: AsyncSession,
    *,
    crisis_id: int,
    audience: str,
    status: str,
    created_at: datetime,
    contact_id: int | None = None,
    name: str = "",
    channel: str = "email",
    sent_at: datetime | None = None,
    confirmed_at: datetime | None = None,
    played_audience: str | None = None,
    bulletin_id: int = 1,
) -> None:
    message = OutboxMessage(
        crisis_id=crisis_id,
        bulletin_id=bulletin_id,
        purpose="bulletin",
        channel=channel,
        subject="Crue : premier point",
        text="Crue : premier point",
        created_at=created_at,
    )
    session.add(message)
    await session.flush()
    assert message.id is not None
    session.add(
        Delivery(
            message_id=message.id,
            crisis_id=crisis_id,
            bulletin_id=bulletin_id,
            purpose="bulletin",
            audience=audience,
            played_audience=played_audience,
            contact_id=contact_id,
            recipient_name=name,
            channel=channel,
            address="x",
            status=status,
            next_attempt_at=created_at if status in UNSETTLED_STATUSES else None,
            idempotency_key=uuid.uuid4().hex,
            sent_at=sent_at,
            confirmed_at=confirmed_at,
            created_at=created_at,
        )
    )
    await session.flush()
