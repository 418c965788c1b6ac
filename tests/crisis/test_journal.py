from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from crisis import journal, journal_verification
from crisis.actors import SYSTEM
from crisis.app.db import Database
from tests.crisis.journal_support import write_entries
from tests.support import FrozenClock


async def _verify(db: Database, crisis_id: int | None = None) -> journal_verification.VerifyReport:
    async with db.read() as session:
        return await journal_verification.verify(session, crisis_id=crisis_id)


async def test_an_untouched_journal_verifies_on_both_chains(
    db: Database, clock: FrozenClock
) -> None:
    await write_entries(db, clock, None, 3)
    await write_entries(db, clock, 7, 4)
    assert (await _verify(db)).ok and (await _verify(db)).checked == 7
    crisis_report = await _verify(db, 7)
    assert crisis_report.ok and crisis_report.checked == 4


async def test_each_entry_links_to_the_previous_one(db: Database, clock: FrozenClock) -> None:
    await write_entries(db, clock, 3, 3)
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=3)
    assert entries[0].crisis_prev_hash == journal.GENESIS
    assert [e.crisis_prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE journal_entry SET payload = replace(payload, 'Abbeville', 'Amiens') WHERE id = 2",
        "UPDATE journal_entry SET actor = 'quelquun' WHERE id = 3",
        "UPDATE journal_entry SET action = 'autre' WHERE id = 1",
        "DELETE FROM journal_entry WHERE id = 2",
        "DELETE FROM journal_entry WHERE id = (SELECT max(id) FROM journal_entry)",
        "UPDATE journal_entry SET payload_digest = 'x', hash = 'y' WHERE id = 4",
    ],
    ids=[
        "edited-payload",
        "edited-actor",
        "edited-action",
        "deleted-middle",
        "deleted-last",
        "rewritten-hash",
    ],
)
async def test_editing_or_deleting_any_row_is_detected(
    db: Database, clock: FrozenClock, tamper: str
) -> None:
    await write_entries(db, clock, 5, 5)
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(tamper))
    assert not (await _verify(db)).ok
    assert not (await _verify(db, 5)).ok


async def test_a_redacted_payload_keeps_the_chain_verifiable(
    db: Database, clock: FrozenClock
) -> None:
    await write_entries(db, clock, 9, 3)
    async with db.transaction() as session:
        await journal.redact(
            session,
            actor=SYSTEM,
            entry_id=2,
            payload={"personne": "pseudonymisée"},
            now=clock.now(),
        )
    assert (await _verify(db)).ok
    assert (await _verify(db, 9)).ok


async def test_a_redaction_is_itself_a_chained_entry_naming_the_digest_of_the_new_payload(
    db: Database, clock: FrozenClock
) -> None:
    await write_entries(db, clock, 9, 3)
    async with db.transaction() as session:
        redaction = await journal.redact(
            session, actor=SYSTEM, entry_id=2, payload={"personne": "X"}, now=clock.now()
        )
    assert redaction is not None and redaction.crisis_id is None  # the global chain only
    async with db.read() as session:
        redacted = await session.get(journal.JournalEntry, 2)
    assert redacted is not None and redaction.action == journal.REDACTION_ACTION
    assert json.loads(redaction.payload) == {
        "entry_id": 2,
        "entry_hash": redacted.hash,
        "crisis_id": 9,
        "payload_digest": journal.digest('{"personne":"X"}'),
    }


async def test_flagging_an_entry_as_redacted_and_changing_its_payload_is_detected(
    db: Database, clock: FrozenClock
) -> None:
    """The review's attack: `redacted = 1` used to exempt an entry from the payload check."""
    await write_entries(db, clock, 5, 3)
    true = "true" if db.dialect == "postgresql" else "1"
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                f"UPDATE journal_entry SET redacted = {true},"
                " payload = replace(payload, 'Abbeville', 'Amiens') WHERE id = 2"
            )
        )
    assert not (await _verify(db)).ok
    assert not (await _verify(db, 5)).ok


REWRITES = {
    # the attack of the review: flag an entry as redacted and change its payload
    "flagged-redacted": "UPDATE journal_entry SET redacted = {true},"
    " payload = replace(payload, 'Abbeville', 'Amiens') WHERE id = 2",
    # a properly redacted entry whose pseudonymised payload is rewritten afterwards
    "rewritten-after-redaction": "UPDATE journal_entry SET payload = replace(payload, '2', '666')"
    " WHERE id = 3",
    # the redaction entry removed, so that nothing names the digest any more
    "redaction-entry-deleted": "UPDATE journal_entry SET action = 'test.step'"
    " WHERE action = 'journal.redacted'",
    # an entry restored to a payload of the attacker's with its flag cleared
    "redaction-undone": "UPDATE journal_entry SET redacted = {false} WHERE id = 3",
}


@pytest.mark.parametrize("tamper", REWRITES.values(), ids=REWRITES.keys())
async def test_rewriting_a_redacted_entry_payload_is_detected(
    db: Database, clock: FrozenClock, tamper: str
) -> None:
    await write_entries(db, clock, 5, 5)
    async with db.transaction() as session:
        await journal.redact(
            session, actor=SYSTEM, entry_id=3, payload={"step": 2}, now=clock.now()
        )
    assert (await _verify(db)).ok and (await _verify(db, 5)).ok
    true, false = ("true", "false") if db.dialect == "postgresql" else ("1", "0")
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(tamper.format(true=true, false=false)))
    assert not (await _verify(db)).ok
    crisis_report = await _verify(db, 5)
    assert not crisis_report.ok
    assert crisis_report.broken is not None and crisis_report.broken.reason


async def test_a_forged_redaction_entry_outside_the_global_chain_fails_the_crisis_verify(
    db: Database, clock: FrozenClock
) -> None:
    """`verify --crisis` does not walk the global chain, yet holds the redaction entries of its
    crisis to their place in it."""
    await write_entries(db, clock, 5, 3)
    async with db.transaction() as session:
        await journal.redact(
            session, actor=SYSTEM, entry_id=2, payload={"step": 1}, now=clock.now()
        )
    await write_entries(db, clock, None, 1)
    forged = '{"step":"falsifié"}'
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE journal_entry SET payload = :p WHERE id = 2"), {"p": forged}
        )
        rows = await conn.execute(sa.text("SELECT payload FROM journal_entry WHERE id = 4"))
        named = json.loads(rows.scalar_one()) | {"payload_digest": journal.digest(forged)}
        await conn.execute(
            sa.text("UPDATE journal_entry SET payload = :p WHERE id = 4"),
            {"p": journal.canonical_json(named)},
        )
    report = await _verify(db, 5)
    assert not report.ok and report.broken == journal_verification.ChainBreak(
        4, "entrée d'effacement altérée"
    )


async def test_a_rolled_back_action_leaves_no_journal_entry(
    db: Database, clock: FrozenClock
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await journal.append(session, actor=SYSTEM, action="test.lost", now=clock.now())
            raise RuntimeError("the action failed")
    async with db.read() as session:
        assert await journal.length(session) == 0
    assert (await _verify(db)).ok


async def test_an_entry_appended_while_the_journal_is_verified_is_not_a_truncated_tail(
    db: Database, clock: FrozenClock
) -> None:
    """On PostgreSQL each statement of a read sees what is committed when it starts: the
    service appending during a verification must not look like a cut chain."""
    await write_entries(db, clock, 5, 3)
    async with db.read() as session:
        head = await session.get(journal.JournalHead, journal.GLOBAL_CHAIN)
        assert head is not None and head.length == 3
        await write_entries(db, clock, 5, 1)  # committed by another transaction meanwhile
        report = await journal_verification.verify(session)
    assert report.ok, report.broken
    assert report.checked == 3
    assert (await _verify(db)).checked == 4
