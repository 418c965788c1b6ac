"""The CIP's own on-call roster, paged through the dispatcher when the prefect orders the CIP.

The cell's machinery, reused (`crisis.cell.paging`): the roster's CIP duty roles
(`contacts.roster.CipDutyRole`, levels 1 to 3) are paged at the order, each person with a
single-use link (and « OK » by reply on SMS and Telegram); with no answer for a role within
`CipRules.page_escalation` of its last page, the leader tick pages the next level. In an
exercise only exercise contacts are paged, through the exercise lane (those on the CIP
roster, else every active exercise contact as an operator), as for the cell.

An answer is the person's contact check-in: a paged Tocsin user with the operator role is
checked in to the CIP for the role paged (`staffing`); a person named by a directory contact
(no account to check in with) is recorded « en route » and checks in on arrival.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import CIP_DUTY_ROLES, DUTY_LABELS, CipDutyRole
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises, paging
from crisis.cell.crises import Crisis
from crisis.cell.paging import CellPage, PageTarget
from crisis.cip import record, staffing
from crisis.cip.record import CipShift
from crisis.cip.rules import CipRules
from crisis.cip.vocabulary import CipRole
from crisis.users import User
from crisis.vocabulary import CrisisMode

CIP_ROLE_OF: Mapping[str, CipRole] = {
    CipDutyRole.HEAD: CipRole.HEAD,
    CipDutyRole.OPERATOR: CipRole.OPERATOR,
    CipDutyRole.TECHNICIAN: CipRole.TECHNICIAN,
    CipDutyRole.SPECIALIST: CipRole.SPECIALIST,
}
WHAT = "la cellule d'information du public (CIP)"


async def _targets(
    session: AsyncSession, *, crisis: Crisis, now: datetime, level_above: Mapping[str, int]
) -> list[PageTarget]:
    found = await paging.targets(
        session,
        at=now,
        exercise=crisis.is_exercise,
        roles=list(level_above) or CIP_DUTY_ROLES,
        level_above=level_above or None,
    )
    # The cell's exercise fallback (every exercise contact) names the cell's role: here,
    # those exercise participants are paged as CIP operators.
    return [
        t
        if t.duty_role in CIP_DUTY_ROLES
        else dataclasses.replace(t, duty_role=CipDutyRole.OPERATOR.value)
        for t in found
    ]


async def _page(
    session: AsyncSession,
    *,
    crisis: Crisis,
    found: Sequence[PageTarget],
    rules: CipRules,
    now: datetime,
) -> list[CellPage]:
    return await paging.page_crisis(
        session,
        crisis=crisis,
        page_targets=found,
        base_url=rules.base_url,
        now=now,
        what=WHAT,
        action="cip.paged",
    )


async def page_on_order(
    session: AsyncSession, *, crisis: Crisis, rules: CipRules, now: datetime, actor: Actor
) -> list[CellPage]:
    """At the order: the first level on duty of each CIP role is paged (journaled)."""
    found = await _targets(session, crisis=crisis, now=now, level_above={})
    if found:
        return await _page(session, crisis=crisis, found=found, rules=rules, now=now)
    await journal.append(
        session,
        actor=actor,
        action="cip.nobody_on_duty",
        now=now,
        crisis_id=crisis.id,
        payload={CrisisMode.EXERCISE: crisis.is_exercise},
    )
    return []


async def escalate(session: AsyncSession, *, rules: CipRules, now: datetime) -> int:
    """Leader tick: page the next level of each CIP role nobody answered in time.

    Only while a CIP is ordered and not yet open (as the cell, until operational). Each CIP
    row is locked while its roles are looked at, so that two ticks never page twice."""
    paged = 0
    for waiting in await record.not_closed(session):
        if waiting.opened_at is not None:
            continue
        cip = await record.find(session, crisis_id=waiting.crisis_id, lock=True)
        if cip is None or cip.opened_at is not None or cip.closed_at is not None:
            continue
        due = await paging.escalation_due(
            session,
            crisis_id=cip.crisis_id,
            now=now,
            after=rules.page_escalation,
            roles=CIP_DUTY_ROLES,
        )
        if not due:
            continue
        crisis = await crises.get(session, crisis_id=cip.crisis_id)
        if not crisis.is_open:
            continue
        found = await _targets(session, crisis=crisis, now=now, level_above=due)
        if found:
            paged += len(await _page(session, crisis=crisis, found=found, rules=rules, now=now))
    return paged


async def answered(
    session: AsyncSession, *, row: CellPage, actor: Actor, via: str, now: datetime
) -> CipShift | None:
    """A paged person answered (link or reply): checked in for the role paged, or en route.

    Returns the new shift, None when the person is recorded « en route »."""
    cip = await record.required(session, crisis_id=row.crisis_id, lock=True)
    record.require_not_closed(cip)
    row.acknowledged_at = now
    session.add(row)
    role = CIP_ROLE_OF[row.duty_role]
    user = await session.get(User, row.user_id) if row.user_id is not None else None
    shift: CipShift | None = None
    if user is not None and user.active and Role.OPERATOR in user.roles:
        present = await record.shifts(session, crisis_id=row.crisis_id, present_only=True)
        if not any(s.user_id == user.id for s in present):
            shift = await staffing.seat(
                session, actor=actor, crisis_id=row.crisis_id, user=user, role=role, now=now
            )
    await journal.append(
        session,
        actor=actor,
        action="cip.page_answered",
        now=now,
        crisis_id=row.crisis_id,
        payload={
            "name": row.name,
            "role": row.duty_role,
            "via": via,
            "person": row.person,
            "checked_in": shift is not None,
        },
    )
    return shift


@dataclass(frozen=True, slots=True)
class PageState:
    """One page of the CIP's roster as the CIP page shows it."""

    name: str
    role_label: str
    level: int
    paged_at: datetime
    answered_at: datetime | None
    state: str  # in_post, en_route, escalated, waiting

    @property
    def state_label(self) -> str:
        return PAGE_STATE_LABELS[self.state]


PAGE_STATE_LABELS: Mapping[str, str] = {
    "in_post": "a répondu, en poste",
    "en_route": "a répondu, en route",
    "escalated": "sans réponse, niveau suivant appelé",
    "waiting": "en attente de réponse",
}


def page_states(rows: Sequence[CellPage], shifts: Sequence[CipShift]) -> list[PageState]:
    """Who was paged, when, and whether they answered (in post or en route) or were escalated."""
    seated = {s.user_id for s in shifts}
    top: dict[str, int] = {}
    for row in rows:
        top[row.duty_role] = max(top.get(row.duty_role, 0), row.level)
    found: list[PageState] = []
    for row in rows:
        if row.acknowledged_at is not None:
            state = "in_post" if row.user_id is not None and row.user_id in seated else "en_route"
        elif top[row.duty_role] > row.level:
            state = "escalated"
        else:
            state = "waiting"
        label = DUTY_LABELS.get(row.duty_role, row.duty_role)
        found.append(
            PageState(row.name, label, row.level, row.paged_at, row.acknowledged_at, state)
        )
    return found


async def pages(session: AsyncSession, *, crisis_id: int) -> list[CellPage]:
    return await paging.pages_of(session, crisis_id=crisis_id, roles=CIP_DUTY_ROLES)
