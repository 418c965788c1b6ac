"""The crisis record: one major event, real or exercise, over a set of communes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import checklist
from crisis.errors import InvalidInput, NotFound
from crisis.text import visible_length
from crisis.vocabulary import CrisisMode, CrisisStatus
from playbooks import Playbook
from storage.types import UTCDateTime

__all__ = [
    "KIND_PATTERN",
    "Crisis",
    "RefusedInput",
    "declare",
    "get",
    "listing",
    "playbook_for",
]

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class RefusedInput(InvalidInput):
    """Bad input on a crisis decision: 422, and journaled like a conflict."""

    journaled = True


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
    playbook_key: str | None = Field(default=None, max_length=60)
    cell_ordered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cell_ordered_by: str | None = Field(default=None, max_length=64)
    cell_operational_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cell_operational_by: str | None = Field(default=None, max_length=64)
    cod_activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cod_synergi_ref: str | None = Field(default=None, max_length=60)
    cod_decided_by: str | None = Field(default=None, max_length=200)
    cod_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cod_recorded_by: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)

    @property
    def is_exercise(self) -> bool:
        return self.mode == CrisisMode.EXERCISE

    @property
    def is_open(self) -> bool:
        return self.status != CrisisStatus.CLOSED


def playbook_for(kind: str, library: dict[str, Playbook]) -> Playbook | None:
    """The playbook whose `kind` is the crisis kind (crisis kinds are the playbooks' kinds)."""
    return next((p for p in library.values() if p.kind == kind), None)


async def _checked_declaration(
    session: AsyncSession, *, title: str, kind: str, communes: list[str]
) -> list[str]:
    """The affected communes' codes, once title, kind and communes are valid."""
    if visible_length(title) < 3:
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
    return codes


async def declare(
    session: AsyncSession,
    *,
    actor: Actor,
    title: str,
    kind: str,
    mode: CrisisMode,
    communes: list[str],
    now: datetime,
    playbook: Playbook | None = None,
) -> Crisis:
    """Declare a major event. Its mode is fixed here for good; the playbook's checklist is
    copied into the crisis, so that a later edit of the playbook never changes it."""
    actor.require(Role.PREFECT, action="déclarer un événement majeur")
    title = " ".join(title.split())
    codes = await _checked_declaration(session, title=title, kind=kind, communes=communes)
    crisis = Crisis(
        title=title,
        kind=kind,
        mode=mode,
        communes=codes,
        declared_at=now,
        declared_by=actor.login,
        playbook_key=playbook.key if playbook else None,
    )
    session.add(crisis)
    await session.flush()
    assert crisis.id is not None
    payload: dict[str, object] = {
        "title": title,
        "kind": kind,
        "mode": mode.value,
        "communes": codes,
    }
    if playbook is not None:
        items = await checklist.copy_from(
            session, crisis_id=crisis.id, playbook=playbook, activated_at=now
        )
        payload["playbook"] = playbook.key
        payload["checklist_items"] = items
    await journal.append(
        session,
        actor=actor,
        action="crisis.declared",
        now=now,
        crisis_id=crisis.id,
        payload=payload,
    )
    return crisis


async def get(session: AsyncSession, *, crisis_id: int, for_update: bool = False) -> Crisis:
    if for_update:
        query = select(Crisis).where(Crisis.id == crisis_id).with_for_update()
        found = (await session.exec(query.execution_options(populate_existing=True))).first()
    else:
        found = await session.get(Crisis, crisis_id)
    if found is None:
        raise NotFound("crisis_not_found", f"Aucun événement n° {crisis_id}.")
    return found


async def among(session: AsyncSession, *, crisis_ids: Sequence[int]) -> list[Crisis]:
    """The crises of these ids that exist, in one statement."""
    query = select(Crisis).where(col(Crisis.id).in_(crisis_ids))
    return list((await session.exec(query)).all())


async def listing(session: AsyncSession, *, include_closed: bool = True) -> list[Crisis]:
    query = select(Crisis).order_by(col(Crisis.declared_at).desc())
    if not include_closed:
        query = query.where(Crisis.status != CrisisStatus.CLOSED)
    return list((await session.exec(query)).all())
