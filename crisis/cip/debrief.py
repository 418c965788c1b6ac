"""The operators' debrief once the prefect has closed the CIP: each person who held a shift
writes one, two short texts (the hard calls, what the next CIP needs). It joins the CIP's
report in the crisis summary (`crisis.cip.report`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from crisis.cell.crises import RefusedInput
from crisis.cip import record
from crisis.errors import Conflict, Forbidden
from storage.types import UTCDateTime

DEBRIEF_MAX = 2000  # characters per field: a short debrief, not a report


class CipDebrief(SQLModel, table=True):
    """One person's debrief of a closed CIP (one per person and crisis)."""

    __tablename__ = "cip_debrief"
    __table_args__ = (sa.UniqueConstraint("crisis_id", "user_id", name="uq_cip_debrief_person"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    name: str = Field(max_length=200)
    hard_calls: str = Field(sa_type=sa.Text)
    needs: str = Field(sa_type=sa.Text)
    written_at: datetime = Field(sa_type=UTCDateTime)


def cleaned(hard_calls: str | None, needs: str | None) -> tuple[str, str]:
    """Both fields stripped; 422 when both are empty or one is too long."""
    hard, wanted = (hard_calls or "").strip(), (needs or "").strip()
    if not hard and not wanted:
        raise RefusedInput(
            "debrief_empty",
            "Débriefing vide : écrivez les appels difficiles "
            "ou les besoins pour la prochaine fois.",
        )
    for text, label in ((hard, "Appels difficiles"), (wanted, "Besoins pour la prochaine fois")):
        if len(text) > DEBRIEF_MAX:
            raise RefusedInput(
                "debrief_too_long", f"« {label} » est trop long (plus de {DEBRIEF_MAX} caractères)."
            )
    return hard, wanted


async def mine(session: AsyncSession, *, crisis_id: int, user_id: int | None) -> CipDebrief | None:
    query = select(CipDebrief).where(
        CipDebrief.crisis_id == crisis_id, CipDebrief.user_id == user_id
    )
    return (await session.exec(query)).first()


async def write(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    hard_calls: str | None,
    needs: str | None,
    now: datetime,
) -> CipDebrief:
    """Record `actor`'s debrief: the CIP closed (409), a shift held (403), once only (409)."""
    cip = await record.required(session, crisis_id=crisis_id, lock=True)
    if cip.closed_at is None:
        raise Conflict("cip_not_closed", "Le débriefing s'écrit une fois la CIP fermée.")
    held = [
        s for s in await record.shifts(session, crisis_id=crisis_id) if s.user_id == actor.user_id
    ]
    if not held or actor.user_id is None:
        raise Forbidden(
            "no_cip_shift", "Seules les personnes qui ont tenu un poste à la CIP la débriefent."
        )
    if await mine(session, crisis_id=crisis_id, user_id=actor.user_id) is not None:
        raise Conflict("debrief_already_written", "Vous avez déjà écrit votre débriefing.")
    hard, wanted = cleaned(hard_calls, needs)
    written = CipDebrief(
        crisis_id=crisis_id,
        user_id=actor.user_id,
        name=held[-1].name,
        hard_calls=hard,
        needs=wanted,
        written_at=now,
    )
    session.add(written)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="cip.debrief_written",
        now=now,
        crisis_id=crisis_id,
        payload={"debrief": written.id, "name": written.name},
    )
    return written


async def for_crisis(session: AsyncSession, *, crisis_id: int) -> list[CipDebrief]:
    query = select(CipDebrief).where(CipDebrief.crisis_id == crisis_id)
    return list((await session.exec(query.order_by(col(CipDebrief.id)))).all())
