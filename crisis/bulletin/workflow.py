"""The bulletin (communiqué) and its four-eyes workflow: draft → submitted → approved.

Publishing is `crisis.bulletin.publication`. Approval binds the content hash: any change afterwards
sends the bulletin back to draft, and a published bulletin is never edited (an update or a
cancellation is a new bulletin whose `references` name it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis import journal
from crisis.actors import Actor, Role
from crisis.bulletin.render import (
    BULLETIN_CHANNELS,
    PUBLIC_ONLY_CHANNELS,
    PUBLIC_PAGE,
    TO_FILL_MARK,
    ChannelText,
    Content,
    content_hash,
    public_link,
    render_all,
)
from crisis.cell import crises
from crisis.cell.crises import Crisis, CrisisStatus
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from playbooks import check_completeness
from storage.types import UTCDateTime

AUDIENCES = ("officials", "media", "public", "staff")
MSG_TYPES = ("alert", "update", "cancel")
STRATEGIES = ("all", "cascade")
MAX_CASCADE_MINUTES = 240


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"


class Bulletin(SQLModel, table=True):
    __tablename__ = "bulletin"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    title: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    audiences: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    channels: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    communes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    template: str | None = Field(default=None, max_length=100)
    variants: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    reference_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    msg_type: str = Field(default="alert", max_length=10)
    strategy: str = Field(default="all", max_length=10)
    cascade_minutes: int = 0
    confirm_receipt: bool = False
    x_thread: bool = False
    status: str = Field(default=BulletinStatus.DRAFT, max_length=12, index=True)
    content_hash: str = Field(max_length=64)
    author: str = Field(max_length=64)
    author_id: int | None = None
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_hash: str | None = Field(default=None, max_length=64)
    rejected_by: str | None = Field(default=None, max_length=64)
    rejected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reject_reason: str | None = Field(default=None, sa_type=sa.Text)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    published_by: str | None = Field(default=None, max_length=64)
    exercise: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    def content(self) -> Content:
        assert self.id is None or self.crisis_id is not None
        return Content(
            crisis_id=self.crisis_id,
            title=self.title,
            body=self.body,
            audiences=tuple(self.audiences),
            channels=tuple(self.channels),
            communes=tuple(self.communes),
            variants=dict(self.variants),
            references=tuple(self.reference_ids),
            msg_type=self.msg_type,
            strategy=self.strategy,
            cascade_minutes=self.cascade_minutes,
            confirm_receipt=self.confirm_receipt,
            x_thread=self.x_thread,
        )


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """What the deployment offers: channels, and the public accounts of each mode."""

    available: tuple[str, ...] = BULLETIN_CHANNELS
    public_accounts: Mapping[str, str] = field(default_factory=dict)
    exercise_public_accounts: Mapping[str, str] = field(default_factory=dict)
    base_url: str = "http://127.0.0.1:8000"

    def accounts(self, *, exercise: bool) -> Mapping[str, str]:
        return self.exercise_public_accounts if exercise else self.public_accounts

    def usable(self, *, audiences: tuple[str, ...], exercise: bool) -> tuple[str, ...]:
        """The channels a bulletin to `audiences` can use, when it names none."""
        accounts = self.accounts(exercise=exercise)
        return tuple(
            c
            for c in self.available
            if c not in PUBLIC_ONLY_CHANNELS or ("public" in audiences and c in accounts)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """What a communicator writes; `None` leaves a field to its default (or unchanged)."""

    title: str
    body: str
    audiences: list[str]
    channels: list[str] | None = None
    communes: list[str] | None = None
    template: str | None = None
    variants: dict[str, str] = field(default_factory=dict)
    references: list[int] = field(default_factory=list)
    msg_type: str | None = None
    strategy: str = "all"
    cascade_minutes: int = 0
    confirm_receipt: bool = False
    x_thread: bool = False


def _problem(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"code": code, "message": message, **extra}


async def _checked(
    session: AsyncSession, *, crisis: Crisis, draft: Draft, policy: ChannelPolicy
) -> Content:
    """The draft as content, or 422 with one entry per problem."""
    problems: list[dict[str, object]] = []
    title, body = " ".join(draft.title.split()), draft.body.strip()
    if len(title) < 3:
        problems.append(_problem("invalid_title", "Le titre doit compter au moins 3 caractères."))
    audiences = list(dict.fromkeys(draft.audiences))
    if not audiences:
        problems.append(_problem("no_audience", "Choisissez au moins un public visé."))
    unknown = [a for a in audiences if a not in AUDIENCES]
    if unknown:
        problems.append(
            _problem("unknown_audience", "Publics inconnus : " + ", ".join(unknown) + ".")
        )
    accounts = policy.accounts(exercise=crisis.is_exercise)
    channels = list(
        dict.fromkeys(draft.channels)
        if draft.channels is not None
        else policy.usable(audiences=tuple(audiences), exercise=crisis.is_exercise)
    )
    if not channels:
        problems.append(_problem("no_channel", "Choisissez au moins un canal."))
    for channel in channels:
        if channel not in BULLETIN_CHANNELS:
            problems.append(
                _problem("unknown_channel", f"Canal inconnu : « {channel} ».", channel=channel)
            )
        elif channel not in policy.available:
            problems.append(
                _problem(
                    "channel_not_configured",
                    f"Le canal « {channel} » n'est pas configuré sur ce déploiement.",
                    channel=channel,
                )
            )
        elif channel in PUBLIC_ONLY_CHANNELS and "public" not in audiences:
            problems.append(
                _problem(
                    "public_channel_without_public",
                    f"Le canal « {channel} » ne sert qu'à informer le public : "
                    "ajoutez le public visé ou retirez ce canal.",
                    channel=channel,
                )
            )
        elif channel in PUBLIC_ONLY_CHANNELS and channel not in accounts:
            which = "de bac à sable (exercice)" if crisis.is_exercise else "public"
            problems.append(
                _problem(
                    "channel_not_configured",
                    f"Aucun compte {which} n'est configuré pour le canal « {channel} ».",
                    channel=channel,
                )
            )
    # A variant for a channel the bulletin does not use is dropped, not kept out of sight.
    variants = {
        k: v.strip()
        for k, v in draft.variants.items()
        if v and v.strip() and k in channels and k != PUBLIC_PAGE
    }
    communes = list(dict.fromkeys(draft.communes if draft.communes else crisis.communes))
    unknown_communes = await geography.unknown_communes(session, codes=communes)
    if unknown_communes:
        problems.append(
            _problem(
                "unknown_communes",
                "Codes INSEE inconnus : " + ", ".join(unknown_communes) + ".",
                communes=unknown_communes,
            )
        )
    references = list(dict.fromkeys(draft.references))
    msg_type = draft.msg_type or ("update" if references else "alert")
    if msg_type not in MSG_TYPES:
        problems.append(_problem("invalid_msg_type", f"Type de message inconnu : {msg_type}."))
    elif msg_type == "alert" and references:
        problems.append(
            _problem(
                "references_need_update",
                "Un communiqué qui en référence d'autres est une mise à jour ou une annulation.",
            )
        )
    elif msg_type in ("update", "cancel") and not references:
        problems.append(
            _problem(
                "references_required",
                "Une mise à jour ou une annulation doit désigner le communiqué publié visé.",
            )
        )
    if references:
        rows = (
            await session.exec(
                select(Bulletin.id).where(
                    col(Bulletin.id).in_(references),
                    Bulletin.crisis_id == crisis.id,
                    Bulletin.status == BulletinStatus.PUBLISHED,
                )
            )
        ).all()
        missing = sorted(set(references) - {r for r in rows if r is not None})
        if missing:
            problems.append(
                _problem(
                    "unknown_references",
                    "Communiqués de référence inconnus ou non publiés pour cet événement : "
                    + ", ".join(f"n° {m}" for m in missing)
                    + ".",
                    references=missing,
                )
            )
    if draft.strategy not in STRATEGIES:
        problems.append(_problem("invalid_strategy", "Stratégie « all » ou « cascade »."))
    cascade = draft.cascade_minutes if draft.strategy == "cascade" else 0
    if draft.strategy == "cascade" and not 1 <= cascade <= MAX_CASCADE_MINUTES:
        problems.append(
            _problem(
                "invalid_cascade_minutes",
                f"En cascade, le délai entre deux canaux va de 1 à {MAX_CASCADE_MINUTES} minutes.",
            )
        )
    if problems:
        raise InvalidInput(
            "invalid_bulletin",
            f"{len(problems)} problème(s) dans le communiqué.",
            problems,
        )
    assert crisis.id is not None
    return Content(
        crisis_id=crisis.id,
        title=title,
        body=body,
        audiences=tuple(audiences),
        channels=tuple(channels),
        communes=tuple(communes),
        variants=variants,
        references=tuple(references),
        msg_type=msg_type,
        strategy=draft.strategy,
        cascade_minutes=cascade,
        confirm_receipt=draft.confirm_receipt,
        x_thread=draft.x_thread and "x" in channels,  # dropped with X, like its variant
    )


async def _open_crisis(session: AsyncSession, crisis_id: int) -> Crisis:
    crisis = await crises.get(session, crisis_id=crisis_id)
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos : plus aucun communiqué.")
    return crisis


def _apply(bulletin: Bulletin, content: Content, template: str | None) -> None:
    bulletin.title = content.title
    bulletin.body = content.body
    bulletin.audiences = list(content.audiences)
    bulletin.channels = list(content.channels)
    bulletin.communes = list(content.communes)
    bulletin.variants = dict(content.variants)
    bulletin.reference_ids = list(content.references)
    bulletin.msg_type = content.msg_type
    bulletin.strategy = content.strategy
    bulletin.cascade_minutes = content.cascade_minutes
    bulletin.confirm_receipt = content.confirm_receipt
    bulletin.x_thread = content.x_thread
    bulletin.template = template
    bulletin.content_hash = content_hash(content)


async def create(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    draft: Draft,
    policy: ChannelPolicy,
    now: datetime,
) -> Bulletin:
    """A new draft; its area defaults to the crisis' communes, its channels to all usable."""
    actor.require(Role.COMMUNICATOR, action="rédiger un communiqué")
    crisis = await _open_crisis(session, crisis_id)
    content = await _checked(session, crisis=crisis, draft=draft, policy=policy)
    bulletin = Bulletin(
        crisis_id=crisis_id,
        title="",
        body="",
        content_hash="",
        author=actor.login,
        author_id=actor.user_id,
        exercise=crisis.is_exercise,
        created_at=now,
        updated_at=now,
    )
    _apply(bulletin, content, draft.template)
    session.add(bulletin)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="bulletin.created",
        now=now,
        crisis_id=crisis_id,
        payload=_payload(bulletin),
    )
    return bulletin


async def edit(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    draft: Draft,
    policy: ChannelPolicy,
    now: datetime,
) -> Bulletin:
    """Change a bulletin not yet published; a change sends a submitted or approved one back."""
    actor.require(Role.COMMUNICATOR, action="modifier un communiqué")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise Conflict(
            "bulletin_published",
            "Un communiqué publié n'est jamais modifié : rédigez une mise à jour.",
        )
    crisis = await _open_crisis(session, bulletin.crisis_id)
    content = await _checked(session, crisis=crisis, draft=draft, policy=policy)
    if content_hash(content) == bulletin.content_hash and draft.template == bulletin.template:
        return bulletin
    previous = bulletin.status
    _apply(bulletin, content, draft.template)
    bulletin.updated_at = now
    if previous != BulletinStatus.DRAFT:
        bulletin.status = BulletinStatus.DRAFT
        bulletin.approved_by = bulletin.approved_at = bulletin.approved_hash = None
    session.add(bulletin)
    await journal.append(
        session,
        actor=actor,
        action="bulletin.edited",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload=_payload(bulletin) | {"previous_status": previous},
    )
    return bulletin


def renderings(bulletin: Bulletin, *, policy: ChannelPolicy) -> dict[str, ChannelText]:
    return render_all(
        bulletin.content(),
        link=public_link(policy.base_url, bulletin.id),
        exercise=bulletin.exercise,
    )


def submit_problems(bulletin: Bulletin, *, policy: ChannelPolicy) -> list[dict[str, object]]:
    """Everything that prevents submission: one entry per channel problem and per element."""
    problems: list[dict[str, object]] = []
    for channel, rendered in renderings(bulletin, policy=policy).items():
        for p in rendered.problems:
            problems.append(_problem(p.code, p.message, channel=channel))
    if bulletin.msg_type != "cancel":
        for missing in check_completeness(title=bulletin.title, body=bulletin.body):
            problems.append(_problem(missing.code, missing.message, element=missing.element))
    texts = [bulletin.title, bulletin.body, *bulletin.variants.values()]
    if any(TO_FILL_MARK in text for text in texts):
        problems.append(
            _problem(
                "unfilled_placeholder",
                "Le texte contient encore « [à compléter : …] » : remplacez chaque mention.",
            )
        )
    return problems


async def submit(
    session: AsyncSession, *, actor: Actor, bulletin_id: int, policy: ChannelPolicy, now: datetime
) -> Bulletin:
    actor.require(Role.COMMUNICATOR, action="soumettre un communiqué à validation")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    if bulletin.status != BulletinStatus.DRAFT:
        raise Conflict("not_a_draft", "Seul un brouillon peut être soumis à validation.")
    await _open_crisis(session, bulletin.crisis_id)
    problems = submit_problems(bulletin, policy=policy)
    if problems:
        raise InvalidInput(
            "bulletin_not_ready",
            f"{len(problems)} problème(s) empêchent la soumission.",
            problems,
        )
    bulletin.status = BulletinStatus.SUBMITTED
    bulletin.submitted_by, bulletin.submitted_at, bulletin.updated_at = actor.login, now, now
    session.add(bulletin)
    await journal.append(
        session,
        actor=actor,
        action="bulletin.submitted",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload=_payload(bulletin),
    )
    return bulletin


REVIEWERS = frozenset({Role.VALIDATOR, Role.PREFECT})


def _is_author(actor: Actor, bulletin: Bulletin) -> bool:
    if actor.is_system:
        return False
    if bulletin.author_id is not None:
        return actor.user_id == bulletin.author_id
    return actor.login == bulletin.author


def _four_eyes(actor: Actor, bulletin: Bulletin, action: str) -> None:
    actor.require(*REVIEWERS, action=action)
    if _is_author(actor, bulletin):
        raise Forbidden(
            "own_bulletin",
            "Vous êtes l'auteur de ce communiqué : une autre personne doit le relire.",
            {"action": action},
        )


@dataclass(frozen=True)
class Permissions:
    """What an actor may do with a bulletin now: the pages show these buttons, and the
    service functions refuse the same actions to anyone else."""

    edit: bool
    submit: bool
    review: bool
    reject_approved: bool
    publish: bool
    test: bool
    follow_up: bool
    own: bool


def permissions(actor: Actor, bulletin: Bulletin) -> Permissions:
    status, roles = bulletin.status, actor.roles
    writes = actor.is_system or Role.COMMUNICATOR in roles
    reviews = (actor.is_system or bool(roles & REVIEWERS)) and not _is_author(actor, bulletin)
    return Permissions(
        edit=writes and status != BulletinStatus.PUBLISHED,
        submit=writes and status == BulletinStatus.DRAFT,
        review=reviews and status == BulletinStatus.SUBMITTED,
        reject_approved=reviews and status == BulletinStatus.APPROVED,
        publish=writes and status == BulletinStatus.APPROVED,
        test=(writes or bool(roles & REVIEWERS)) and status != BulletinStatus.PUBLISHED,
        follow_up=writes and status == BulletinStatus.PUBLISHED,
        own=_is_author(actor, bulletin),
    )


async def approve(
    session: AsyncSession, *, actor: Actor, bulletin_id: int, now: datetime
) -> Bulletin:
    """Approve the submitted text: the approval binds its content hash."""
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    _four_eyes(actor, bulletin, "valider un communiqué")
    if bulletin.status != BulletinStatus.SUBMITTED:
        raise Conflict("not_submitted", "Seul un communiqué soumis peut être validé.")
    bulletin.status = BulletinStatus.APPROVED
    bulletin.approved_by, bulletin.approved_at = actor.login, now
    bulletin.approved_hash = content_hash(bulletin.content())
    bulletin.updated_at = now
    session.add(bulletin)
    await journal.append(
        session,
        actor=actor,
        action="bulletin.approved",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload=_payload(bulletin),
    )
    return bulletin


async def reject(
    session: AsyncSession, *, actor: Actor, bulletin_id: int, reason: str, now: datetime
) -> Bulletin:
    """Send the bulletin back to its author as a draft, with the reason kept."""
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    _four_eyes(actor, bulletin, "rejeter un communiqué")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason_required", "Indiquez le motif du rejet.")
    if bulletin.status not in (BulletinStatus.SUBMITTED, BulletinStatus.APPROVED):
        raise Conflict("not_submitted", "Seul un communiqué soumis ou validé peut être rejeté.")
    bulletin.status = BulletinStatus.DRAFT
    bulletin.rejected_by, bulletin.rejected_at, bulletin.reject_reason = actor.login, now, reason
    bulletin.approved_by = bulletin.approved_at = bulletin.approved_hash = None
    bulletin.updated_at = now
    session.add(bulletin)
    await journal.append(
        session,
        actor=actor,
        action="bulletin.rejected",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload=_payload(bulletin) | {"reason": reason},
    )
    return bulletin


async def get(session: AsyncSession, *, bulletin_id: int, lock: bool = False) -> Bulletin:
    query = select(Bulletin).where(Bulletin.id == bulletin_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    bulletin = (await session.exec(query)).first()
    if bulletin is None:
        raise NotFound("bulletin_not_found", f"Aucun communiqué n° {bulletin_id}.")
    return bulletin


async def listing(session: AsyncSession, *, crisis_id: int) -> list[Bulletin]:
    query = (
        select(Bulletin).where(Bulletin.crisis_id == crisis_id).order_by(col(Bulletin.id).desc())
    )
    return list((await session.exec(query)).all())


def _payload(bulletin: Bulletin) -> dict[str, object]:
    return {
        "bulletin_id": bulletin.id,
        "title": bulletin.title,
        "status": bulletin.status,
        "msg_type": bulletin.msg_type,
        "references": bulletin.reference_ids,
        "content_hash": bulletin.content_hash,
    }
