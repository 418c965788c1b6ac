"""The scenario of the demo's finished crisis exercise, played: injects at their offsets or
released by the trainer's hand, one expected action marked done, another left past its
deadline, and two participants answering their page — so that its report shows injects,
reactions and answer times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import paged_answers
from crisis.actors import SYSTEM, Actor
from crisis.app.db import Database
from crisis.cell import paging
from crisis.users import User
from exercises import inject_play, inject_reactions, injects
from exercises.injects import InjectSpec
from exercises.programme import DrillRun

__all__ = ["SCENARIO", "add_scenario", "play"]

SCENARIO = (
    InjectSpec(
        offset_min=5,
        audience="officials",
        text="Le maire d'Abbeville signale l'eau sur la chaussée rue des Capucins "
        "et demande s'il doit fermer l'école.",
        expected_action="Rappeler le maire et lui confirmer la conduite à tenir",
        deadline_min=10,
    ),
    InjectSpec(
        offset_min=20,
        audience="media",
        text="France Bleu Picardie demande une interview du préfet au journal de 12 h.",
        expected_action="Proposer un créneau d'interview au journaliste",
        deadline_min=15,
    ),
    InjectSpec(
        offset_min=45,
        audience="public",
        text="Des riverains d'Amiens appellent : « faut-il évacuer le quartier Saint-Leu ? »",
    ),
)
RELEASED_AT = timedelta(minutes=15)  # the media call released ahead of its offset
ANSWERS_AT = (timedelta(minutes=4), timedelta(minutes=9))  # two participants answer
DONE_AT = timedelta(minutes=12)  # the mayor called back


async def add_scenario(session: AsyncSession, *, drill_id: int, now: datetime) -> list[int]:
    """The drill's injects (before its launch); their ids, in order."""
    ids = []
    for spec in SCENARIO:
        inject = await injects.add(session, actor=SYSTEM, drill_id=drill_id, spec=spec, now=now)
        assert inject.id is not None
        ids.append(inject.id)
    return ids


async def _trainer(session: AsyncSession) -> Actor:
    """The demo's trainer (the system when the demo users are not there)."""
    user = (await session.exec(select(User).where(User.login == "formateur"))).first()
    return user.actor() if user is not None else SYSTEM


async def _answer(db: Database, crisis_id: int, start: datetime) -> None:
    async with db.read() as session:
        pages = await paging.pages_of(session, crisis_id=crisis_id)
    for page, after in zip(pages, ANSWERS_AT, strict=False):
        assert page.id is not None
        async with db.transaction() as session:
            await paged_answers.acknowledge_reply(session, page_id=page.id, now=start + after)


async def play(db: Database, *, run: DrillRun, inject_ids: list[int]) -> None:
    """The run's first hour: answers, injects played and released, a reaction done."""
    assert run.id is not None and run.crisis_id is not None and run.launched_at is not None
    start, ids = run.launched_at, {"drill_id": run.drill_id, "run_id": run.id}
    await _answer(db, run.crisis_id, start)
    moments = sorted(
        [("tick", start + timedelta(minutes=s.offset_min)) for s in SCENARIO[::2]]
        + [("done", start + DONE_AT), ("release", start + RELEASED_AT)],
        key=lambda m: m[1],
    )
    for what, at in moments:
        async with db.transaction() as session:
            trainer = await _trainer(session)
            if what == "tick":
                await inject_reactions.tick(session, now=at)
            elif what == "done":
                await inject_reactions.mark_done(
                    session, actor=trainer, inject_id=inject_ids[0], now=at, **ids
                )
            else:
                await inject_play.release(
                    session, actor=trainer, inject_id=inject_ids[1], now=at, **ids
                )
