"""The bulletin (communiqué) and its four-eyes workflow: draft → submitted → approved.

Publishing is `crisis.bulletin.publication`. Four eyes: whoever wrote any part of the text (its
author or any later editor, recorded on the bulletin) neither approves nor rejects it. Approval
binds the content hash: a change after submission clears any approval and sends the bulletin
back to review (to draft when the changed text no longer passes the submission checks), and a
published bulletin is never edited (an update or a cancellation is a new bulletin whose
`references` name it). The row is `crisis.bulletin.record`, what a draft and a submission must
satisfy `crisis.bulletin.checks`, judged by `crisis.bulletin.verdict` as the composer shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor, Role
from crisis.bulletin import review_notices
from crisis.bulletin.checks import (
    MAX_CASCADE_MINUTES,
    ChannelPolicy,
    Draft,
    refused,
)
from crisis.bulletin.record import Bulletin, get, journaled, listing
from crisis.bulletin.render import Content, content_hash
from crisis.bulletin.verdict import draft_of_bulletin, renderings, submit_problems, verdict
from crisis.cell import crises
from crisis.cell.crises import Crisis
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.vocabulary import BulletinStatus, CrisisStatus

__all__ = [
    "MAX_CASCADE_MINUTES",
    "Bulletin",
    "ChannelPolicy",
    "Draft",
    "approve",
    "create",
    "edit",
    "get",
    "listing",
    "reject",
    "renderings",
    "submit",
    "submit_problems",
]


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
    bulletin.translations = {k: dict(v) for k, v in content.translations.items()}
    bulletin.template = template
    bulletin.content_hash = content_hash(content)


async def _saved(
    session: AsyncSession,
    *,
    crisis: Crisis,
    draft: Draft,
    policy: ChannelPolicy,
    public_id: str | None = None,
) -> Content:
    """The draft's content, or 422 with what the composer's preview lists as blocking."""
    judged = await verdict(session, crisis=crisis, draft=draft, policy=policy, public_id=public_id)
    if judged.to_save:
        raise refused(judged.to_save)
    return judged.content


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
    content = await _saved(session, crisis=crisis, draft=draft, policy=policy)
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
    return await journaled(session, bulletin, actor=actor, action="bulletin.created", now=now)


async def edit(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    draft: Draft,
    policy: ChannelPolicy,
    now: datetime,
) -> Bulletin:
    """Change a bulletin not yet published; its editor is recorded, and a change sends a
    submitted or approved one back to review with its approval cleared."""
    actor.require(Role.COMMUNICATOR, action="modifier un communiqué")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise Conflict(
            "bulletin_published",
            "Un communiqué publié n'est jamais modifié : rédigez une mise à jour.",
        )
    crisis = await _open_crisis(session, bulletin.crisis_id)
    content = await _saved(
        session, crisis=crisis, draft=draft, policy=policy, public_id=bulletin.public_id
    )
    if content_hash(content) == bulletin.content_hash and draft.template == bulletin.template:
        return bulletin
    previous, approver = bulletin.status, bulletin.approved_by
    _apply(bulletin, content, draft.template)
    bulletin.add_editor(actor)
    bulletin.updated_at = now
    if previous != BulletinStatus.DRAFT:
        _back_to_review(bulletin, actor=actor, policy=policy, now=now)
    session.add(bulletin)
    edited = await journaled(
        session,
        bulletin,
        actor=actor,
        action="bulletin.edited",
        now=now,
        editor=actor.login,
        previous_status=previous,
        approval_cleared=approver,
    )
    if previous != BulletinStatus.DRAFT and bulletin.status == BulletinStatus.SUBMITTED:
        # back to review: the validators on duty are told again, as at a submission
        await review_notices.reviewers(session, bulletin=bulletin, now=now, edited_by=actor.login)
    return edited


def _back_to_review(
    bulletin: Bulletin, *, actor: Actor, policy: ChannelPolicy, now: datetime
) -> None:
    """A submitted or approved text changed: its approval goes, and it awaits a new review
    (the edit resubmits it), or goes back to draft when it no longer passes the checks."""
    bulletin.approved_by = bulletin.approved_at = bulletin.approved_hash = None
    if submit_problems(bulletin, policy=policy):
        bulletin.status = BulletinStatus.DRAFT
        return
    bulletin.status = BulletinStatus.SUBMITTED
    bulletin.submitted_by, bulletin.submitted_at = actor.login, now


async def submit(
    session: AsyncSession, *, actor: Actor, bulletin_id: int, policy: ChannelPolicy, now: datetime
) -> Bulletin:
    actor.require(Role.COMMUNICATOR, action="soumettre un communiqué à validation")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    if bulletin.status != BulletinStatus.DRAFT:
        raise Conflict("not_a_draft", "Seul un brouillon peut être soumis à validation.")
    crisis = await _open_crisis(session, bulletin.crisis_id)
    draft = draft_of_bulletin(bulletin)
    judged = await verdict(
        session, crisis=crisis, draft=draft, policy=policy, public_id=bulletin.public_id
    )
    problems = judged.problems
    if problems:
        raise InvalidInput(
            "bulletin_not_ready",
            f"{len(problems)} problème(s) empêchent la soumission.",
            problems,
        )
    bulletin.status = BulletinStatus.SUBMITTED
    bulletin.submitted_by, bulletin.submitted_at, bulletin.updated_at = actor.login, now, now
    session.add(bulletin)
    await journaled(session, bulletin, actor=actor, action="bulletin.submitted", now=now)
    await review_notices.reviewers(session, bulletin=bulletin, now=now)
    return bulletin


REVIEWERS = frozenset({Role.VALIDATOR, Role.PREFECT})


def _four_eyes(actor: Actor, bulletin: Bulletin, action: str) -> None:
    """A reviewer who wrote none of the text: neither its author nor any of its editors."""
    actor.require(*REVIEWERS, action=action)
    if bulletin.is_author(actor):
        raise Forbidden(
            "own_bulletin",
            "Vous êtes l'auteur de ce communiqué : une autre personne doit le relire.",
            {"action": action},
        )
    if bulletin.wrote(actor):
        raise Forbidden(
            "edited_bulletin",
            "Vous avez modifié ce communiqué : une personne qui n'en a écrit aucune partie "
            "doit le relire.",
            {"action": action, "editors": bulletin.editor_logins},
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
    edited: bool


def permissions(actor: Actor, bulletin: Bulletin) -> Permissions:
    status, roles = bulletin.status, actor.roles
    writes = actor.is_system or Role.COMMUNICATOR in roles
    reviews = (actor.is_system or bool(roles & REVIEWERS)) and not bulletin.wrote(actor)
    return Permissions(
        edit=writes and status != BulletinStatus.PUBLISHED,
        submit=writes and status == BulletinStatus.DRAFT,
        review=reviews and status == BulletinStatus.SUBMITTED,
        reject_approved=reviews and status == BulletinStatus.APPROVED,
        publish=writes and status == BulletinStatus.APPROVED,
        test=(writes or bool(roles & REVIEWERS)) and status != BulletinStatus.PUBLISHED,
        follow_up=writes and status == BulletinStatus.PUBLISHED,
        own=bulletin.is_author(actor),
        edited=bulletin.wrote(actor) and not bulletin.is_author(actor),
    )


async def approve(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    now: datetime,
    seen_hash: str | None = None,
) -> Bulletin:
    """Approve the submitted text: the approval binds its content hash.

    `seen_hash` is the content hash of the text the reviewer read: when the text changed since
    (an edit committed between the reading and the approval), the approval is refused, so no
    one ever approves, and no one publishes, a text its reviewer did not see."""
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    _four_eyes(actor, bulletin, "valider un communiqué")
    if bulletin.status != BulletinStatus.SUBMITTED:
        raise Conflict("not_submitted", "Seul un communiqué soumis peut être validé.")
    if seen_hash is not None and seen_hash != bulletin.content_hash:
        raise Conflict(
            "content_changed",
            "Le communiqué a été modifié depuis que vous l'avez lu : relisez-le avant de le "
            "valider.",
            {"content_hash": bulletin.content_hash},
        )
    bulletin.status = BulletinStatus.APPROVED
    bulletin.approved_by, bulletin.approved_at = actor.login, now
    bulletin.approved_hash = content_hash(bulletin.content())
    bulletin.updated_at = now
    session.add(bulletin)
    await journaled(session, bulletin, actor=actor, action="bulletin.approved", now=now)
    await review_notices.author(session, bulletin=bulletin, reviewer=actor, now=now)
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
    await journaled(
        session, bulletin, actor=actor, action="bulletin.rejected", now=now, reason=reason
    )
    await review_notices.author(session, bulletin=bulletin, reviewer=actor, now=now)
    return bulletin
