"""The CIP's FAQ: questions and answers written by a communicator and approved by another
person (a validator or the prefect), the bulletins' four-eyes rule. Each answer names the
published bulletin it comes from and is « à revoir » once a newer bulletin updates or
cancels that one. Operators answer callers from approved entries only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises
from crisis.cell.crises import RefusedInput
from crisis.cip import facts
from crisis.cip.vocabulary import FaqStatus
from crisis.errors import Conflict, NotFound
from crisis.text import visible_length
from storage.types import UTCDateTime

WRITERS = (Role.COMMUNICATOR,)
APPROVERS = (Role.VALIDATOR, Role.PREFECT)


class FaqEntry(SQLModel, table=True):
    __tablename__ = "cip_faq_entry"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(sa_type=sa.Text)
    communes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    source_bulletin_id: int | None = Field(default=None, foreign_key="bulletin.id")
    status: str = Field(default=FaqStatus.PENDING, max_length=10)
    author: str = Field(max_length=64)
    author_id: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class FaqItem:
    entry: FaqEntry
    to_review: bool
    """A newer bulletin updates or cancels the entry's source: « à revoir »."""
    superseded_by: int | None
    commune_names: tuple[str, ...]
    search_key: str = ""
    """Question, answer and communes folded (`geography.search_key`), for `search`."""


def _clean(value: str, *, code: str, what: str, longest: int) -> str:
    text = " ".join(value.split())
    if visible_length(text) < 3:
        raise RefusedInput(f"{code}_missing", f"{what} : au moins 3 caractères.")
    if len(text) > longest:
        raise RefusedInput(f"{code}_too_long", f"{what} : {longest} caractères au plus.")
    return text


async def write(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    question: str,
    answer: str,
    source_bulletin_id: int | None,
    communes: list[str],
    now: datetime,
) -> FaqEntry:
    """A new entry, waiting for a second person's approval."""
    actor.require(*WRITERS, action="rédiger une réponse de la FAQ")
    crisis = await crises.get(session, crisis_id=crisis_id)
    if not crisis.is_open:
        raise Conflict("crisis_closed", "L'événement est clos.")
    entry = FaqEntry(
        crisis_id=crisis_id,
        question=_clean(question, code="question", what="Question", longest=1000),
        answer=_clean(answer, code="answer", what="Réponse", longest=4000),
        communes=list(dict.fromkeys(communes)),
        source_bulletin_id=source_bulletin_id,
        author=actor.login,
        author_id=actor.user_id,
        created_at=now,
    )
    if source_bulletin_id is not None:
        published = {f.bulletin_id for f in await facts.published(session, crisis_id=crisis_id)}
        if source_bulletin_id not in published:
            raise RefusedInput(
                "source_not_published",
                f"Le communiqué n° {source_bulletin_id} n'est pas un communiqué publié "
                "de cet événement.",
            )
    unknown = await geography.unknown_communes(session, codes=entry.communes)
    if unknown:
        raise RefusedInput("unknown_communes", "Codes INSEE inconnus : " + ", ".join(unknown))
    session.add(entry)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="cip.faq_written",
        now=now,
        crisis_id=crisis_id,
        payload={"entry": entry.id, "question": entry.question, "source": source_bulletin_id},
    )
    return entry


async def entry(session: AsyncSession, *, crisis_id: int, entry_id: int) -> FaqEntry:
    found = await session.get(FaqEntry, entry_id)
    if found is None or found.crisis_id != crisis_id:
        raise NotFound("faq_entry_not_found", f"Aucune réponse n° {entry_id} dans cette FAQ.")
    return found


async def approve(
    session: AsyncSession, *, actor: Actor, crisis_id: int, entry_id: int, now: datetime
) -> FaqEntry:
    """The second pair of eyes: a validator or the prefect who did not write it."""
    actor.require(*APPROVERS, action="valider une réponse de la FAQ")
    found = await entry(session, crisis_id=crisis_id, entry_id=entry_id)
    if found.status == FaqStatus.APPROVED:
        raise Conflict("faq_already_approved", "Cette réponse est déjà validée.")
    if found.author == actor.login:
        raise Conflict("four_eyes", "Une autre personne que son auteur doit valider cette réponse.")
    found.status = FaqStatus.APPROVED
    found.approved_by = actor.login
    found.approved_at = now
    session.add(found)
    await journal.append(
        session,
        actor=actor,
        action="cip.faq_approved",
        now=now,
        crisis_id=crisis_id,
        payload={"entry": found.id, "author": found.author},
    )
    return found


async def listing(
    session: AsyncSession, *, crisis_id: int, approved_only: bool = True
) -> list[FaqItem]:
    query = select(FaqEntry).where(FaqEntry.crisis_id == crisis_id)
    if approved_only:
        query = query.where(FaqEntry.status == FaqStatus.APPROVED)
    rows = list((await session.exec(query.order_by(col(FaqEntry.id)))).all())
    superseded = {
        f.bulletin_id: f.superseded_by
        for f in await facts.published(session, crisis_id=crisis_id)
        if f.superseded_by is not None
    }
    codes = sorted({c for e in rows for c in e.communes})
    names = {c.code: c.name for c in await geography.communes_by_code(session, codes=codes)}
    items = []
    for e in rows:
        places = tuple(names.get(c, c) for c in e.communes)
        key = geography.search_key(" ".join((e.question, e.answer, *places)))
        items.append(
            FaqItem(
                entry=e,
                to_review=e.source_bulletin_id in superseded,
                superseded_by=superseded.get(e.source_bulletin_id or 0),
                commune_names=places,
                search_key=key,
            )
        )
    return items


def search(items: list[FaqItem], query: str) -> list[FaqItem]:
    """Entries holding every word of `query` (question, answer, communes), accents and
    case ignored: « ecole Abbeville » finds « École … à Abbeville »."""
    words = geography.search_key(query).split()
    if not words:
        return items
    return [item for item in items if all(w in item.search_key for w in words)]
