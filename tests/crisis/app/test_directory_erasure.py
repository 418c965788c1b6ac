from __future__ import annotations

from sqlmodel import select

from contacts.demo import load_demo_directory
from contacts.directory import Contact
from crisis import directory, journal, journal_verification
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.dispatch.outbox import UNSETTLED_STATUSES, Delivery, OutboxMessage
from tests.support import FrozenClock


async def _delivery(
    db: Database, clock: FrozenClock, *, contact: Contact, address: str, status: str, n: int
) -> int:
    async with db.transaction() as session:
        message = OutboxMessage(
            purpose="bulletin", channel="email", text="Alerte", created_at=clock.now()
        )
        session.add(message)
        await session.flush()
        assert message.id is not None
        delivery = Delivery(
            message_id=message.id, purpose="bulletin", audience=contact.audience,
            contact_id=contact.id, recipient_name=contact.display_name, channel="email",
            address=address, status=status,
            next_attempt_at=clock.now() if status in UNSETTLED_STATUSES else None,
            idempotency_key=f"erasure-test-{n}", last_error=f"550 {address} inconnu",
            created_at=clock.now(),
        )  # fmt: skip
        session.add(delivery)
        await session.flush()
        assert delivery.id is not None
        return delivery.id


async def test_erasing_a_contact_pseudonymises_its_deliveries_and_cancels_those_not_sent(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await load_demo_directory(session, now=clock.now())
        mayor = (await session.exec(select(Contact).where(Contact.key == "demo:maire:80021"))).one()
        other = (await session.exec(select(Contact).where(Contact.key == "demo:maire:80001"))).one()
    name = mayor.display_name
    sent = await _delivery(
        db, clock, contact=mayor, address="maire@sandbox.tocsin.test", status="sent", n=1
    )
    failed = await _delivery(db, clock, contact=mayor, address="+33639980001", status="failed", n=2)
    pending = await _delivery(
        db, clock, contact=mayor, address="maire2@sandbox.tocsin.test", status="pending", n=4
    )
    kept = await _delivery(
        db, clock, contact=other, address="autre@sandbox.tocsin.test", status="sent", n=3
    )
    async with db.transaction() as session:
        assert mayor.id is not None
        result = await directory.erase_contact(
            session, actor=SYSTEM, contact_id=mayor.id, now=clock.now()
        )
    assert result["pseudonymised_deliveries"] == 3
    async with db.read() as session:
        rows = {d.id: d for d in (await session.exec(select(Delivery))).all()}
        report = await journal_verification.verify(session)
    for delivery_id, status in ((sent, "sent"), (failed, "failed")):
        erased = rows[delivery_id]
        assert erased.status == status and erased.contact_id == mayor.id
        assert erased.recipient_name == "Personne effacée"
        assert erased.address == f"effacé-{mayor.id}-{delivery_id}"
        assert name not in (erased.last_error or "") and "@" not in (erased.last_error or "")
    assert rows[pending].status == "cancelled"  # nothing more is sent to an erased person
    assert rows[kept].address == "autre@sandbox.tocsin.test"
    assert rows[kept].recipient_name == other.display_name
    assert report.ok, report


async def test_the_erasure_of_personal_data_still_verifies_and_each_redaction_is_chained(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await load_demo_directory(session, now=clock.now())
        mayor = (await session.exec(select(Contact).where(Contact.key == "demo:maire:80021"))).one()
    name = mayor.display_name
    assert mayor.id is not None
    async with db.transaction() as session:  # an entry of crisis 3 that names the mayor
        await journal.append(
            session,
            actor=SYSTEM,
            action="test.called",
            now=clock.now(),
            crisis_id=3,
            payload={"appelé": name},
        )
    async with db.transaction() as session:
        result = await directory.erase_contact(
            session, actor=SYSTEM, contact_id=mayor.id, now=clock.now()
        )
    assert result["redacted_entries"] >= 1
    async with db.read() as session:
        redactions = (
            await session.exec(
                select(journal.JournalEntry).where(
                    journal.JournalEntry.action == journal.REDACTION_ACTION
                )
            )
        ).all()
        redacted = (
            await session.exec(
                select(journal.JournalEntry).where(journal.JournalEntry.redacted == True)  # noqa: E712
            )
        ).all()
        assert (await journal_verification.verify(session)).ok
        assert (await journal_verification.verify(session, crisis_id=3)).ok
    assert len(redactions) == len(redacted) == result["redacted_entries"]
    assert all(name not in entry.payload for entry in [*redacted, *redactions])
