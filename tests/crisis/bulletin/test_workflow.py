"""The bulletin workflow: four eyes, the approved hash, one 422 entry per problem."""

from __future__ import annotations

import pytest

from crisis import journal
from crisis.app.db import Database
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.vocabulary import BulletinStatus, CrisisMode
from tests.crisis.bulletin_support import (
    AUTHOR_AND_VALIDATOR,
    COMMUNICATOR,
    POLICY,
    PREFECT,
    VALIDATOR,
    declare,
    draft,
    submitted,
)
from tests.support import FrozenClock


async def _submitted(db: Database, clock: FrozenClock, **changes: object) -> int:
    crisis_id = await declare(db, clock.now())
    return await submitted(db, clock.now(), crisis_id=crisis_id, **changes)


async def test_a_draft_goes_through_submit_approve_and_publish_with_each_step_journaled(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        approved = await bulletins.approve(
            session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.advance(minutes=2)
        )
        assert approved.approved_hash == approved.content_hash
        done = await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )
    assert done.bulletin.status == BulletinStatus.PUBLISHED
    async with db.read() as session:
        actions = [e.action for e in await journal.for_crisis(session, crisis_id=1)]
    assert actions[-6:] == [  # the validators on duty, then the author, are told
        "bulletin.created",
        "bulletin.submitted",
        "bulletin.reviewers_notified",
        "bulletin.approved",
        "bulletin.author_notified",
        "bulletin.published",
    ]


async def test_the_author_may_not_approve_their_own_bulletin_even_holding_the_validator_role(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        with pytest.raises(Forbidden) as refused:
            await bulletins.approve(
                session, actor=AUTHOR_AND_VALIDATOR, bulletin_id=bulletin_id, now=clock.now()
            )
    assert refused.value.code == "own_bulletin"


async def test_a_communicator_cannot_approve_and_a_validator_cannot_write(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        with pytest.raises(Forbidden):
            await bulletins.approve(
                session, actor=COMMUNICATOR, bulletin_id=bulletin_id, now=clock.now()
            )
        with pytest.raises(Forbidden):
            await bulletins.create(
                session,
                actor=VALIDATOR,
                crisis_id=1,
                draft=draft(),
                policy=POLICY,
                now=clock.now(),
            )


async def test_a_change_after_approval_sends_the_bulletin_back_to_review_and_publish_is_refused(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=PREFECT, bulletin_id=bulletin_id, now=clock.now())
        edited = await bulletins.edit(
            session,
            actor=COMMUNICATOR,
            bulletin_id=bulletin_id,
            draft=draft(title="Crue de la Somme : la situation s'aggrave"),
            policy=POLICY,
            now=clock.now(),
        )
        assert edited.status == BulletinStatus.SUBMITTED and edited.approved_hash is None
    async with db.transaction() as session:
        with pytest.raises(Conflict) as refused:
            await publication.publish(
                session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
            )
    assert refused.value.code == "not_approved"


async def test_a_bulletin_changed_behind_the_workflow_is_refused_at_publication(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now())
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        bulletin.body += "\nUne phrase ajoutée sans relecture."
        session.add(bulletin)
    async with db.transaction() as session:
        with pytest.raises(Conflict) as refused:
            await publication.publish(
                session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
            )
    assert refused.value.code == "changed_since_approval"


async def test_publishing_twice_is_refused_and_a_published_bulletin_is_never_edited(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now())
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )
    async with db.transaction() as session:
        with pytest.raises(Conflict):
            await publication.publish(
                session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
            )
        with pytest.raises(Conflict) as refused:
            await bulletins.edit(
                session,
                actor=COMMUNICATOR,
                bulletin_id=bulletin_id,
                draft=draft(title="Autre titre"),
                policy=POLICY,
                now=clock.now(),
            )
    assert refused.value.code == "bulletin_published"


async def test_a_rejection_returns_the_bulletin_to_draft_with_its_reason(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.transaction() as session:
        rejected = await bulletins.reject(
            session,
            actor=VALIDATOR,
            bulletin_id=bulletin_id,
            reason="Préciser les routes coupées.",
            now=clock.now(),
        )
    assert rejected.status == BulletinStatus.DRAFT
    assert rejected.reject_reason == "Préciser les routes coupées."


async def test_submission_reports_one_entry_per_missing_element_and_per_channel_over_its_limit(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    long_variant = "Crue : " + "restez chez vous, " * 30
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session,
            actor=COMMUNICATOR,
            crisis_id=crisis_id,
            draft=draft(body="Il pleut beaucoup.", variants={"x": long_variant}),
            policy=POLICY,
            now=clock.now(),
        )
        assert bulletin.id is not None
        with pytest.raises(InvalidInput) as refused:
            await bulletins.submit(
                session,
                actor=COMMUNICATOR,
                bulletin_id=bulletin.id,
                policy=POLICY,
                now=clock.now(),
            )
    codes = sorted(p["code"] for p in refused.value.details)
    # the title says what and where; the body says none of the other three
    assert codes == sorted(
        ["too_long", "missing_instructions", "missing_more_info", "missing_next_update"]
    )
    assert [p["channel"] for p in refused.value.details if p["code"] == "too_long"] == ["x"]


async def test_bad_input_is_refused_with_every_reason_and_nothing_written(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    async with db.transaction() as session:
        with pytest.raises(InvalidInput) as refused:
            await bulletins.create(
                session,
                actor=COMMUNICATOR,
                crisis_id=crisis_id,
                draft=draft(
                    audiences=[], channels=["email", "pigeon", "mastodon"], references=[99]
                ),
                policy=POLICY.__class__(public_accounts={}, base_url="https://tocsin.test"),
                now=clock.now(),
            )
    codes = [p["code"] for p in refused.value.details]
    assert codes == [
        "no_audience",
        "unknown_channel",
        "public_channel_without_public",
        "unknown_references",
    ]
    async with db.read() as session:
        assert await bulletins.listing(session, crisis_id=crisis_id) == []


async def test_a_public_channel_without_a_configured_account_is_refused(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    async with db.transaction() as session:
        with pytest.raises(InvalidInput) as refused:
            await bulletins.create(
                session,
                actor=COMMUNICATOR,
                crisis_id=crisis_id,
                draft=draft(channels=["email", "mastodon"]),
                policy=POLICY.__class__(public_accounts={}, base_url="https://tocsin.test"),
                now=clock.now(),
            )
    assert [p["code"] for p in refused.value.details] == ["channel_not_configured"]


async def test_an_update_and_a_cancellation_say_so_on_every_channel(
    db: Database, clock: FrozenClock
) -> None:
    first = await _submitted(db, clock)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=first, now=clock.now())
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=first, policy=POLICY, now=clock.now()
        )
        for msg_type, word in (("update", "MISE À JOUR"), ("cancel", "ANNULATION")):
            later = await bulletins.create(
                session,
                actor=COMMUNICATOR,
                crisis_id=1,
                draft=draft(references=[first], msg_type=msg_type),
                policy=POLICY,
                now=clock.now(),
            )
            texts = bulletins.renderings(later, policy=POLICY)
            assert set(texts) == {"email", "sms", "telegram", "x", "public_page"}
            for rendered in texts.values():
                assert rendered.ok and word in rendered.text, rendered
            assert texts["email"].subject.startswith(word)


async def test_references_must_name_published_bulletins_of_the_same_crisis(
    db: Database, clock: FrozenClock
) -> None:
    draft_id = await _submitted(db, clock)
    async with db.transaction() as session:
        with pytest.raises(InvalidInput) as refused:
            await bulletins.create(
                session,
                actor=COMMUNICATOR,
                crisis_id=1,
                draft=draft(references=[draft_id]),
                policy=POLICY,
                now=clock.now(),
            )
    assert [p["code"] for p in refused.value.details] == ["unknown_references"]


async def test_every_rendering_of_an_exercise_starts_with_the_exercise_banner(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session,
            actor=COMMUNICATOR,
            crisis_id=crisis_id,
            draft=draft(),
            policy=POLICY,
            now=clock.now(),
        )
    texts = bulletins.renderings(bulletin, policy=POLICY)
    assert texts and all(t.text.startswith("EXERCICE EXERCICE EXERCICE") for t in texts.values())
    assert texts["email"].subject.startswith("EXERCICE EXERCICE EXERCICE")


async def test_short_channels_get_the_title_and_the_public_link_never_a_cut_body(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted(db, clock)
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
    texts = bulletins.renderings(bulletin, policy=POLICY)
    link = f"https://tocsin.test/public/bulletins/{bulletin.public_id}"
    assert texts["x"].text == f"Crue de la Somme à Abbeville\n{link}"
    assert texts["sms"].short_form and link in texts["sms"].text
    assert "Consignes" in texts["email"].text
