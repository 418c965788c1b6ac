"""Four eyes against an editor: whoever wrote any part of the text neither approves nor
rejects it, an edit after submission sends it back to review, the journal names every editor
(issue 15, item 1)."""

from __future__ import annotations

import json

import pytest

from crisis import journal
from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.errors import Conflict, Forbidden
from crisis.vocabulary import BulletinStatus
from tests.crisis.bulletin_support import (
    BODY,
    COMMUNICATOR,
    OTHER_COMMUNICATOR,
    POLICY,
    VALIDATOR,
    created,
    declare,
    draft,
)
from tests.support import FrozenClock

# A small cabinet's usual set-up: one person both writes and validates.
CABINET = Actor(6, "cabinet", frozenset({Role.COMMUNICATOR, Role.VALIDATOR}))
CHANGED = draft(body=BODY.replace("la Somme déborde", "la Somme déborde fortement"))


async def _edit(db: Database, clock: FrozenClock, bulletin_id: int, actor: Actor) -> None:
    async with db.transaction() as session:
        await bulletins.edit(
            session,
            actor=actor,
            bulletin_id=bulletin_id,
            draft=CHANGED,
            policy=POLICY,
            now=clock.advance(minutes=1),
        )


async def _submit(db: Database, clock: FrozenClock, bulletin_id: int) -> None:
    async with db.transaction() as session:
        await bulletins.submit(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )


async def _colleagues_draft(db: Database, clock: FrozenClock) -> int:
    crisis_id = await declare(db, clock.now())
    bulletin = await created(db, clock.now(), crisis_id=crisis_id)
    assert bulletin.id is not None
    return bulletin.id


async def test_an_editor_of_a_colleagues_draft_cannot_approve_it_once_the_colleague_submits(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _edit(db, clock, bulletin_id, CABINET)
    await _submit(db, clock, bulletin_id)
    async with db.transaction() as session:
        with pytest.raises(Forbidden) as refused:
            await bulletins.approve(
                session, actor=CABINET, bulletin_id=bulletin_id, now=clock.now()
            )
    assert refused.value.code == "edited_bulletin"
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
    assert bulletin.status == BulletinStatus.SUBMITTED and bulletin.approved_by is None


async def test_an_editor_of_a_submitted_bulletin_can_neither_approve_nor_reject_it(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _submit(db, clock, bulletin_id)
    await _edit(db, clock, bulletin_id, CABINET)
    async with db.transaction() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin.status == BulletinStatus.SUBMITTED
        with pytest.raises(Forbidden):
            await bulletins.approve(
                session, actor=CABINET, bulletin_id=bulletin_id, now=clock.now()
            )
        with pytest.raises(Forbidden):
            await bulletins.reject(
                session, actor=CABINET, bulletin_id=bulletin_id, reason="non", now=clock.now()
            )
        approved = await bulletins.approve(
            session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now()
        )
    assert approved.status == BulletinStatus.APPROVED


async def test_the_page_offers_no_review_to_an_editor_and_says_why(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _edit(db, clock, bulletin_id, CABINET)
    await _submit(db, clock, bulletin_id)
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
    editor, reviewer = (bulletins.permissions(a, bulletin) for a in (CABINET, VALIDATOR))
    assert (editor.review, editor.edited, editor.own) == (False, True, False)
    assert (reviewer.review, reviewer.edited) == (True, False)


async def test_an_edit_after_approval_clears_it_and_sends_the_bulletin_back_to_review(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _submit(db, clock, bulletin_id)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now())
    await _edit(db, clock, bulletin_id, CABINET)
    async with db.transaction() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        assert bulletin.status == BulletinStatus.SUBMITTED
        assert (bulletin.approved_by, bulletin.approved_at, bulletin.approved_hash) == (None,) * 3
        assert bulletin.submitted_by == "cabinet"
        with pytest.raises(Conflict) as refused:
            await publication.publish(
                session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
            )
    assert refused.value.code == "not_approved"


async def test_an_edit_that_no_longer_passes_the_submission_checks_goes_back_to_draft(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _submit(db, clock, bulletin_id)
    async with db.transaction() as session:
        edited = await bulletins.edit(
            session,
            actor=OTHER_COMMUNICATOR,
            bulletin_id=bulletin_id,
            draft=draft(body="La Somme déborde."),
            policy=POLICY,
            now=clock.now(),
        )
    assert edited.status == BulletinStatus.DRAFT and edited.editor_logins == ["com2"]


async def test_the_author_editing_their_own_text_is_not_an_editor_and_an_editor_counts_once(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _edit(db, clock, bulletin_id, COMMUNICATOR)
    async with db.transaction() as session:
        for body in ("Premier ajout.", "Second ajout."):
            await bulletins.edit(
                session,
                actor=CABINET,
                bulletin_id=bulletin_id,
                draft=draft(body=f"{BODY}\n{body}"),
                policy=POLICY,
                now=clock.now(),
            )
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
    assert bulletin.editors == [{"user_id": 6, "login": "cabinet"}]


async def test_the_journal_names_each_editor_and_the_approval_and_publication_list_them(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _colleagues_draft(db, clock)
    await _edit(db, clock, bulletin_id, CABINET)
    await _submit(db, clock, bulletin_id)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now())
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )
    async with db.read() as session:
        entries = {e.action: e for e in await journal.for_crisis(session, crisis_id=1)}
    edited = entries["bulletin.edited"]
    assert (edited.actor, json.loads(edited.payload)["editor"]) == ("cabinet", "cabinet")
    for action in ("bulletin.approved", "bulletin.published"):
        payload = json.loads(entries[action].payload)
        assert (payload["author"], payload["editors"]) == ("com", ["cabinet"]), action
