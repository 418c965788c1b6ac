"""The crisis record: one major event, real or exercise, over a set of communes."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from contacts.sqltypes import UTCDateTime
from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import InvalidInput, NotFound

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class CrisisMode(StrEnum):
    REAL = "real"
    EXERCISE = "exercise"


class CrisisStatus(StrEnum):
    DECLARED = "declared"
    CLOSED = "closed"


class Crisis(SQLModel, table=True):
    __tablename__ = "crisis"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    mode: str = Field(max_length=10)
    status: str = Field(default=CrisisStatus.DECLARED, max_length=30, index=True)
    communes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    declared_at: datetime = Field(sa_type=UTCDateTime)
    declared_by: str = Field(max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_exercise(self) -> bool:
        return self.mode == CrisisMode.EXERCISE


async def declare(
    session: AsyncSession,
    *,
    actor: Actor,
    title: str,
    kind: str,
    mode: CrisisMode,
    communes: list[str],
    now: datetime,
) -> Crisis:
    """Declare a major event. Its mode is fixed here for good."""
    actor.require(Role.PREFECT, action="déclarer un événement majeur")
    title = " ".join(title.split())
    if len(title) < 3:
        raise InvalidInput("invalid_title", "Le titre doit compter au moins 3 caractères.")
    if not KIND_PATTERN.match(kind):
        raise InvalidInput("invalid_kind", f"Type d'événement invalide : « {kind} ».")
    if not communes:
        raise InvalidInput("no_commune", "Indiquez au moins une commune touchée.")
    codes = list(dict.fromkeys(communes))
    unknown = await geography.unknown_communes(session, codes=codes)
    if unknown:
        raise InvalidInput(
            "unknown_communes", "Codes INSEE inconnus : " + ", ".join(unknown) + ".", unknown
        )
    crisis = Crisis(
        title=title, kind=kind, mode=mode, communes=codes, declared_at=now, declared_by=actor.login
    )
    session.add(crisis)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="crisis.declared",
        now=now,
        crisis_id=crisis.id,
        payload={"title": title, "kind": kind, "mode": mode.value, "communes": codes},
    )
    return crisis


async def get(session: AsyncSession, *, crisis_id: int) -> Crisis:
    crisis = await session.get(Crisis, crisis_id)
    if crisis is None:
        raise NotFound("crisis_not_found", f"Aucun événement n° {crisis_id}.")
    return crisis


async def listing(session: AsyncSession, *, include_closed: bool = True) -> list[Crisis]:
    query = select(Crisis).order_by(col(Crisis.declared_at).desc())
    if not include_closed:
        query = query.where(Crisis.status != CrisisStatus.CLOSED)
    return list((await session.exec(query)).all())
