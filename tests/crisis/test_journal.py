from __future__ import annotations

import pytest
import sqlalchemy as sa

from crisis import journal
from crisis.actors import SYSTEM
from crisis.app.db import Database
from tests.support import FrozenClock


async def _write_entries(db: Database, clock: FrozenClock, crisis_id: int | None, n: int) -> None:
    for i in range(n):
        async with db.transaction() as session:
            await journal.append(
                session,
                actor=SYSTEM,
                action="test.step",
                now=clock.advance(seconds=1),
                crisis_id=crisis_id,
                payload={"step": i, "texte": "Crue à Abbeville"},
            )


async def _verify(db: Database, crisis_id: int | None = None) -> journal.VerifyReport:
    async with db.read() as session:
        return await journal.verify(session, crisis_id=crisis_id)


async def test_an_untouched_journal_verifies_on_both_chains(
    db: Database, clock: FrozenClock
) -> None:
    await _write_entries(db, clock, None, 3)
    await _write_entries(db, clock, 7, 4)
    assert (await _verify(db)).ok and (await _verify(db)).checked == 7
    crisis_report = await _verify(db, 7)
    assert crisis_report.ok and crisis_report.checked == 4


async def test_each_entry_links_to_the_previous_one(db: Database, clock: FrozenClock) -> None:
    await _write_entries(db, clock, 3, 3)
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
    await _write_entries(db, clock, 5, 5)
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(tamper))
    assert not (await _verify(db)).ok
    assert not (await _verify(db, 5)).ok


async def test_a_redacted_payload_keeps_the_chain_verifiable(
    db: Database, clock: FrozenClock
) -> None:
    await _write_entries(db, clock, 9, 3)
    async with db.transaction() as session:
        await journal.redact(session, entry_id=2, payload={"personne": "pseudonymisée"})
    assert (await _verify(db)).ok
    assert (await _verify(db, 9)).ok


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
