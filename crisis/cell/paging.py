"""ES47 paging: the on-call roster is paged when the cell is ordered, and answers.

Each paged person gets a page row with a single-use acknowledgement link (an unguessable
token whose SHA-256 digest is stored); on SMS and Telegram they may also answer « OK » and
the code of their delivery (`crisis.replies`). With no acknowledgement for a duty role within
`escalation_minutes` of the last page of that role, the next level is paged (leader tick).
An acknowledgement (link or API) is a row, unique per crisis, duty role and person; the cell
may be declared operational once the minimum staffing has acknowledged.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import SENDING_KINDS, AddressKind, Contact, ContactAudience, ContactChannel
from contacts.roster import DUTY_LABELS, REQUIRED_ROLES, DutyRole, Shift, on_duty
from crisis import journal
from crisis.actors import SYSTEM, Actor
from crisis.bulletin.render import REPLY_CHANNELS, REPLY_CODE_PLACEHOLDER
from crisis.cell.crises import Crisis
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, DeliveryStatus, Purpose, Rendering
from crisis.vocabulary import PHONE, Audience
from storage.types import UTCDateTime

EXERCISE_PREFIX = "EXERCICE EXERCICE EXERCICE"
MAX_LEVEL = 3


class CellPage(SQLModel, table=True):
    __tablename__ = "cell_page"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    duty_role: str = Field(max_length=20)
    level: int
    contact_id: int | None = None
    user_id: int | None = None
    name: str = Field(max_length=200)
    token_digest: str = Field(max_length=64, unique=True)
    paged_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def person(self) -> str:
        """The paged person as an acknowledgement names them: "contact:12" or "user:3"."""
        return f"contact:{self.contact_id}" if self.contact_id else f"user:{self.user_id}"


class CellAcknowledgement(SQLModel, table=True):
    __tablename__ = "cell_acknowledgement"
    __table_args__ = (sa.UniqueConstraint("crisis_id", "duty_role", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    duty_role: str = Field(max_length=20)
    person: str = Field(max_length=40)  # "contact:12" or "user:3"
    contact_id: int | None = None
    user_id: int | None = None
    name: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    via: str = Field(max_length=10)  # link, api, reply, phone
    recorded_by: str = Field(max_length=64)
    on_behalf: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PageTarget:
    duty_role: str
    level: int
    contact_id: int | None
    user_id: int | None
    name: str


async def _exercise_contacts(session: AsyncSession) -> set[int]:
    query = select(Contact.id).where(
        Contact.audience == ContactAudience.EXERCISE, col(Contact.active)
    )
    return {cid for cid in (await session.exec(query)).all() if cid is not None}


async def targets(
    session: AsyncSession,
    *,
    at: datetime,
    exercise: bool,
    roles: Sequence[str] | None = None,
    level_above: Mapping[str, int] | None = None,
) -> list[PageTarget]:
    """Who to page: per duty role, the lowest level on duty (above `level_above[role]`).

    In an exercise only exercise contacts are paged: those on duty if any, else every
    active exercise contact (level 1), under the communication role.
    """
    shifts = await on_duty(session, at=at)
    exercise_ids = await _exercise_contacts(session) if exercise else set()
    if exercise:
        shifts = [s for s in shifts if s.contact_id in exercise_ids]
    wanted = list(roles) if roles is not None else [r.value for r in DutyRole]
    found: list[PageTarget] = []
    for role in wanted:
        floor = (level_above or {}).get(role, 0)
        candidates = [s for s in shifts if s.role == role and s.level > floor]
        if not candidates:
            continue
        level = min(s.level for s in candidates)
        found += [_target(s) for s in candidates if s.level == level]
    if exercise and not found and not level_above:
        query = select(Contact).where(col(Contact.id).in_(sorted(exercise_ids)))
        found = [
            PageTarget(DutyRole.COMMUNICATION.value, 1, c.id, None, c.display_name)
            for c in (await session.exec(query)).all()
        ]
    return found


def _target(shift: Shift) -> PageTarget:
    return PageTarget(shift.role, shift.level, shift.contact_id, shift.user_id, shift.name)


async def first_channels(
    session: AsyncSession, *, contact_ids: Sequence[int]
) -> dict[int, tuple[str, str]]:
    """Each contact's preferred usable channel (kind, address), else its phone."""
    if not contact_ids:
        return {}
    query = (
        select(ContactChannel)
        .where(col(ContactChannel.contact_id).in_(sorted(set(contact_ids))), ContactChannel.active)
        .order_by(col(ContactChannel.preference), col(ContactChannel.id))
    )
    chosen: dict[int, tuple[str, str]] = {}
    phones: dict[int, tuple[str, str]] = {}
    for channel in (await session.exec(query)).all():
        if channel.kind in SENDING_KINDS:
            chosen.setdefault(channel.contact_id, (channel.kind, channel.address))
        elif channel.kind == AddressKind.PHONE:
            phones.setdefault(channel.contact_id, (channel.kind, channel.address))
    merged = phones | chosen
    return {cid: merged[cid] for cid in contact_ids if cid in merged}


def request_for(
    *, channel: tuple[str, str] | None, name: str, contact_id: int | None, exercise: bool
) -> DeliveryRequest:
    """A delivery to one staff member (a phone or nothing usable: a person must call)."""
    audience = Audience.EXERCISE.value if exercise else Audience.STAFF.value
    played = Audience.STAFF.value if exercise else None
    kind, address = channel if channel is not None else (PHONE, "—")
    to_call = kind == AddressKind.PHONE
    return DeliveryRequest(
        channel=PHONE if to_call else kind,
        address=address,
        audience=audience,
        played_audience=played,
        recipient_name=name,
        contact_id=contact_id,
        status=DeliveryStatus.TO_CALL if to_call else DeliveryStatus.PENDING,
    )


CELL_WHAT = "la cellule de communication d'urgence"


def _page_text(
    *, title: str, role: str, link: str, exercise: bool, channel: str, what: str = CELL_WHAT
) -> tuple[str, str]:
    """The page; on SMS and Telegram, the way to answer by reply comes first."""
    prefix = f"{EXERCISE_PREFIX} — " if exercise else ""
    subject = f"{prefix}Tocsin : activation de {what}"
    answer = f"Confirmez votre venue : {link}"
    if channel in REPLY_CHANNELS:
        answer = f"Confirmez votre venue : répondez OK {REPLY_CODE_PLACEHOLDER} ou {link}"
    text = (
        f"{prefix}Le préfet ordonne l'activation de {what} "
        f"(événement : « {title} »). Vous êtes d'astreinte ({DUTY_LABELS.get(role, role)}). "
        f"{answer}"
    )
    return subject, text


def _page_row(crisis_id: int, target: PageTarget, *, token: str, now: datetime) -> CellPage:
    """The page's row: the target's fields, and the digest of its link's token."""
    return CellPage(
        crisis_id=crisis_id, token_digest=token_digest(token), paged_at=now, **asdict(target)
    )


async def page(
    session: AsyncSession,
    *,
    crisis_id: int,
    crisis_title: str,
    exercise: bool,
    page_targets: Sequence[PageTarget],
    base_url: str,
    now: datetime,
    actor: Actor = SYSTEM,
    what: str = CELL_WHAT,
    action: str = "cell.paged",
) -> list[CellPage]:
    """Page each target with a personal link, through the outbox; journaled as `action`.

    `what` names the body being activated in the page's text (the cell, or the CIP)."""
    channels = await first_channels(
        session, contact_ids=[t.contact_id for t in page_targets if t.contact_id is not None]
    )
    pages: list[CellPage] = []
    batch: list[outbox.Outgoing] = []
    for target in page_targets:
        token = secrets.token_urlsafe(24)
        row = _page_row(crisis_id, target, token=token, now=now)
        session.add(row)
        pages.append(row)
        link = f"{base_url.rstrip('/')}/acquitter/{token}"
        channel = channels.get(target.contact_id) if target.contact_id else None
        request = request_for(
            channel=channel, name=target.name, contact_id=target.contact_id, exercise=exercise
        )
        subject, text = _page_text(
            title=crisis_title,
            role=target.duty_role,
            link=link,
            exercise=exercise,
            channel=request.channel,
            what=what,
        )
        rendering = Rendering(channel=request.channel, text=text, subject=subject, link=link)
        batch.append(outbox.Outgoing([rendering], [request], exercise, crisis_id))
    # One batch for every page (a département's exercise pages hundreds at once).
    await outbox.enqueue_many(session, purpose=Purpose.PAGE, batch=batch, now=now)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action=action,
        now=now,
        crisis_id=crisis_id,
        payload={
            "paged": [
                {"role": t.duty_role, "level": t.level, "name": t.name} for t in page_targets
            ],
        },
    )
    return pages


async def page_crisis(
    session: AsyncSession,
    *,
    crisis: Crisis,
    page_targets: Sequence[PageTarget],
    base_url: str,
    now: datetime,
    what: str = CELL_WHAT,
    action: str = "cell.paged",
) -> list[CellPage]:
    """`page` for this crisis (its title and mode), the cell's or the CIP's roster."""
    assert crisis.id is not None
    return await page(
        session,
        crisis_id=crisis.id,
        crisis_title=crisis.title,
        exercise=crisis.is_exercise,
        page_targets=page_targets,
        base_url=base_url,
        now=now,
        what=what,
        action=action,
    )


async def pages_of(
    session: AsyncSession, *, crisis_id: int, roles: Sequence[str] = REQUIRED_ROLES
) -> list[CellPage]:
    """The crisis' pages for these duty roles (by default the cell's, not the CIP's)."""
    query = (
        select(CellPage)
        .where(CellPage.crisis_id == crisis_id, col(CellPage.duty_role).in_(list(roles)))
        .order_by(col(CellPage.paged_at), col(CellPage.id))
    )
    return list((await session.exec(query)).all())


async def acknowledgements(
    session: AsyncSession, *, crisis_ids: Sequence[int]
) -> list[CellAcknowledgement]:
    if not crisis_ids:
        return []
    query = (
        select(CellAcknowledgement)
        .where(col(CellAcknowledgement.crisis_id).in_(list(crisis_ids)))
        .order_by(col(CellAcknowledgement.at))
    )
    return list((await session.exec(query)).all())


def staffing_gaps(
    acks: Sequence[CellAcknowledgement], *, minimum: Mapping[str, int]
) -> dict[str, int]:
    """How many more people each duty role needs (empty: staffing reached).

    One person fills one seat: someone who holds two duty roles and answered for both still
    counts once, so a lone person never makes the minimum staffing (ES47). Seats are given by
    a maximum matching of people to roles, so the order of the answers does not matter.
    """
    seats = [role for role, wanted in minimum.items() for _ in range(wanted)]
    roles_of: dict[str, set[str]] = {}
    for ack in acks:
        roles_of.setdefault(ack.person, set()).add(ack.duty_role)
    holder: list[str | None] = [None] * len(seats)

    def seat(person: str, tried: set[int]) -> bool:
        for index, role in enumerate(seats):
            if role in roles_of[person] and index not in tried:
                tried.add(index)
                current = holder[index]
                if current is None or seat(current, tried):
                    holder[index] = person
                    return True
        return False

    for person in roles_of:
        seat(person, set())
    gaps: dict[str, int] = {}
    for role, current in zip(seats, holder, strict=True):
        if current is None:
            gaps[role] = gaps.get(role, 0) + 1
    return gaps


async def escalation_due(
    session: AsyncSession,
    *,
    crisis_id: int,
    now: datetime,
    after: timedelta,
    roles: Sequence[str] = REQUIRED_ROLES,
) -> dict[str, int]:
    """Duty roles with no acknowledgement whose last page is older than `after`: last level.

    A role is answered by an acknowledgement row or by one of its pages acknowledged."""
    pages = await pages_of(session, crisis_id=crisis_id, roles=roles)
    acked = {a.duty_role for a in await acknowledgements(session, crisis_ids=[crisis_id])}
    acked |= {row.duty_role for row in pages if row.acknowledged_at is not None}
    last: dict[str, CellPage] = {}
    for row in pages:
        if row.duty_role not in last or row.level >= last[row.duty_role].level:
            last[row.duty_role] = row
    return {
        role: row.level
        for role, row in last.items()
        if role not in acked and row.level < MAX_LEVEL and now >= row.paged_at + after
    }
