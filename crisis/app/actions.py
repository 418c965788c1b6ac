"""The actions the API and the pages share: who acts, when, under which settings, and the one
service call each route makes (the routes differ only in how they answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypedDict

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import summary
from crisis.actors import Actor
from crisis.app.auth import ClockDep, CurrentActor, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.policies import channel_policy, lifecycle_rules
from crisis.app.settings import Settings
from crisis.app.web.public_answers import publisher as cap_publisher
from crisis.bulletin import publication, self_test
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import Bulletin, ChannelPolicy, Draft
from crisis.cell import checklist, crises, lifecycle
from crisis.cell.checklist import ChecklistEntry
from crisis.cell.crises import Crisis
from crisis.public import mirror
from crisis.vocabulary import CrisisMode


class Acting(TypedDict):
    actor: Actor
    now: datetime


@dataclass(frozen=True)
class Caller:
    actor: Actor
    settings: Settings
    now: datetime

    @property
    def policy(self) -> ChannelPolicy:
        return channel_policy(self.settings)

    @property
    def acting(self) -> Acting:
        """Who acts and when, as every service function takes them."""
        return Acting(actor=self.actor, now=self.now)


async def caller(actor: CurrentActor, clock: ClockDep, settings: SettingsDep) -> Caller:
    """Async so that FastAPI does not hand it to its thread pool (see `auth.DbDep`)."""
    return Caller(actor=actor, settings=settings, now=clock.now())


CallerDep = Annotated[Caller, Depends(caller)]


async def declare(
    session: AsyncSession,
    caller: Caller,
    *,
    title: str,
    kind: str,
    mode: CrisisMode,
    communes: list[str],
    activate_cell: bool,
) -> Crisis:
    """Declare the crisis and, when asked, order its cell (ES47) in the same transaction."""
    crisis = await crises.declare(
        session,
        **caller.acting,
        title=title,
        kind=kind,
        mode=mode,
        communes=communes,
        playbook=crises.playbook_for(kind, playbook_library()),
    )
    assert crisis.id is not None
    if not activate_cell:
        return crisis
    return await cell(session, caller, crisis.id, operational=False)


async def cell(
    session: AsyncSession, caller: Caller, crisis_id: int, *, operational: bool
) -> Crisis:
    """Order the cell, or declare it operational."""
    transition = lifecycle.declare_operational if operational else lifecycle.order_cell
    return await transition(
        session,
        **caller.acting,
        crisis_id=crisis_id,
        rules=lifecycle_rules(caller.settings),
    )


async def record_cod(
    session: AsyncSession,
    caller: Caller,
    crisis_id: int,
    *,
    activated_at: datetime | None,
    synergi_ref: str | None,
    decided_by: str | None,
) -> Crisis:
    return await lifecycle.record_cod(
        session,
        **caller.acting,
        crisis_id=crisis_id,
        activated_at=activated_at,
        synergi_ref=synergi_ref,
        decided_by=decided_by,
        rules=lifecycle_rules(caller.settings),
    )


async def mark_item(
    session: AsyncSession, caller: Caller, crisis_id: int, *, position: int, done: bool
) -> ChecklistEntry:
    crisis = await crises.get(session, crisis_id=crisis_id)
    return await checklist.mark(
        session,
        **caller.acting,
        crisis_id=crisis_id,
        position=position,
        done=done,
        crisis_open=crisis.is_open,
    )


async def close(
    session: AsyncSession, caller: Caller, crisis_id: int, *, unmet_confirmed: bool = True
) -> tuple[Crisis, dict[str, Any]]:
    """Close the crisis; its summary figures go into the closing journal entry."""
    figures = await summary.figures(session, crisis_id=crisis_id, now=caller.now)
    crisis = await lifecycle.close(
        session,
        crisis_id=crisis_id,
        summary=figures,
        unmet_confirmed=unmet_confirmed,
        **caller.acting,
    )
    return crisis, figures


async def review(
    session: AsyncSession,
    caller: Caller,
    bulletin_id: int,
    *,
    reject: str | None = None,
    seen_hash: str | None = None,
) -> Bulletin:
    """Approve the text read (`seen_hash`), or reject with the reason given: the second pair
    of eyes."""
    if reject is not None:
        return await bulletins.reject(
            session, bulletin_id=bulletin_id, reason=reject, **caller.acting
        )
    return await bulletins.approve(
        session, bulletin_id=bulletin_id, seen_hash=seen_hash, **caller.acting
    )


async def submit(session: AsyncSession, caller: Caller, bulletin_id: int) -> Bulletin:
    return await bulletins.submit(
        session, bulletin_id=bulletin_id, policy=caller.policy, **caller.acting
    )


async def publish(session: AsyncSession, caller: Caller, bulletin_id: int) -> publication.Published:
    async def cap(session: AsyncSession, bulletin: Bulletin) -> str | None:
        return await mirror.cap_document(
            session,
            public_id=bulletin.public_id,
            exercise=bulletin.exercise,
            playbooks=playbook_library(),
            publisher=lambda number: cap_publisher(caller.settings, cip_number=number),
        )

    return await publication.publish(
        session, bulletin_id=bulletin_id, policy=caller.policy, cap=cap, **caller.acting
    )


async def send_test(
    session: AsyncSession,
    caller: Caller,
    bulletin_id: int,
    *,
    channel: str,
    address: str | None,
) -> self_test.SelfTest:
    """A test of the bulletin to one of the caller's own channels (any other is refused)."""
    return await self_test.send_test(
        session,
        **caller.acting,
        bulletin_id=bulletin_id,
        channel=channel,
        address=address,
        policy=caller.policy,
    )


class _Writing(TypedDict):
    actor: Actor
    draft: Draft
    policy: ChannelPolicy
    now: datetime


async def write(
    session: AsyncSession, caller: Caller, draft: Draft, *, crisis_id: int = 0, bulletin_id: int = 0
) -> Bulletin:
    """A new draft in the crisis, or the bulletin `bulletin_id` edited."""
    writing = _Writing(actor=caller.actor, draft=draft, policy=caller.policy, now=caller.now)
    if bulletin_id:
        return await bulletins.edit(session, bulletin_id=bulletin_id, **writing)
    return await bulletins.create(session, crisis_id=crisis_id, **writing)
