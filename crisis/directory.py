"""Directory actions as the crisis side sees them: role checks and journal entries.

`contacts` stays free of both; every function here runs in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any, BinaryIO, Unpack

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import privacy, roster
from contacts.demo import DemoReport, load_demo_directory
from contacts.directory import Contact
from contacts.importer import Applier, ImportFormat, ImportReport, import_contacts
from contacts.privacy import ERASED_NAME, Erasure
from contacts.records import ContactRecord
from contacts.roster import Gap, Shift, roster_gaps
from contacts.targeting import Targeting, target
from crisis import journal
from crisis.actors import SYSTEM, Actor, Role
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.errors import InvalidInput, NotFound
from crisis.journal import JournalEntry

_UNSENT = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)

__all__ = [
    "DemoReport",
    "Gap",
    "Targeting",
    "add_shift",
    "create_contact",
    "erase_contact",
    "export_contact",
    "import_directory",
    "load_demo",
    "roster_gaps",
    "targeting",
]


_NOT_JOURNALED = frozenset({"dry_run", "errors", "errors_total", "written"})


def _report_payload(report: ImportReport) -> dict[str, Any]:
    """The report's figures and keys, in its own order (its line errors stay out)."""
    names = (f.name for f in fields(report) if f.name not in _NOT_JOURNALED)
    return {name: getattr(report, name) for name in names}


async def import_directory(
    session: AsyncSession,
    *,
    actor: Actor,
    stream: BinaryIO | Iterable[bytes],
    fmt: ImportFormat,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    filename: str = "",
) -> ImportReport:
    """Import a directory file; journals what changed (counts and keys) or the refusal."""
    actor.require(Role.ADMIN, action="importer l'annuaire")
    report = await import_contacts(
        session, stream=stream, fmt=fmt, now=now, dry_run=dry_run, progress=progress
    )
    if not report.ok:
        await journal.append(
            session,
            actor=actor,
            action="contacts.import_refused",
            now=now,
            payload={
                "format": fmt.value,
                "file": filename,
                "errors": report.errors_total,
                "lines": [e.line for e in report.errors[:50]],
                "dry_run": dry_run,
            },
        )
    elif report.written and (report.changed or report.channels_added or report.channels_updated):
        await journal.append(
            session,
            actor=actor,
            action="contacts.imported",
            now=now,
            payload={"file": filename, **_report_payload(report)},
        )
    return report


async def load_demo(session: AsyncSession, *, now: datetime, actor: Actor = SYSTEM) -> DemoReport:
    """The synthetic Somme directory and roster (`serve --demo`, tests); idempotent."""
    actor.require(Role.ADMIN, action="charger l'annuaire de démonstration")
    report = await load_demo_directory(session, now=now)
    if report.added or report.updated:
        await journal.append(
            session,
            actor=actor,
            action="contacts.demo_loaded",
            now=now,
            payload={
                "contacts": report.contacts,
                "added": report.added,
                "updated": report.updated,
                "shifts": report.shifts,
            },
        )
    return report


async def create_contact(
    session: AsyncSession, *, actor: Actor, record: ContactRecord, now: datetime
) -> Contact:
    """Add one contact (with its channels); its key must be new."""
    actor.require(Role.ADMIN, action="ajouter un contact")
    existing = (await session.exec(select(Contact.id).where(Contact.key == record.key))).first()
    if existing is not None:
        raise InvalidInput("duplicate_key", f"Un contact de clé « {record.key} » existe déjà.")
    report = ImportReport(format="api", dry_run=False)
    applier = Applier(session, report=report, source="manual", now=now)
    await applier.add(record)
    await applier.flush()
    contact = (await session.exec(select(Contact).where(Contact.key == record.key))).one()
    await journal.append(
        session,
        actor=actor,
        action="contacts.created",
        now=now,
        payload={"contact_id": contact.id, "key": contact.key, "audience": contact.audience},
    )
    return contact


async def _contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact_not_found", f"Aucun contact n° {contact_id}.")
    return contact


def _needle(term: str) -> str:
    """`term` as it appears inside canonical JSON, escaped for LIKE."""
    text = json.dumps(term, ensure_ascii=False)[1:-1]
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _scrub(value: Any, terms: tuple[str, ...], pseudonym: str) -> Any:
    if isinstance(value, str):
        for term in terms:
            value = value.replace(term, pseudonym)
        return value
    if isinstance(value, list):
        return [_scrub(v, terms, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, terms, pseudonym) for k, v in value.items()}
    return value


async def _entries_mentioning(session: AsyncSession, terms: tuple[str, ...]) -> list[JournalEntry]:
    if not terms:
        return []
    matches = [col(JournalEntry.payload).like(_needle(t), escape="\\") for t in terms]
    query = select(JournalEntry).where(or_(*matches)).order_by(col(JournalEntry.id))
    return list((await session.exec(query)).all())


async def export_contact(
    session: AsyncSession, *, actor: Actor, contact_id: int, now: datetime
) -> dict[str, Any]:
    """Everything held about one person: the contact, channels, shifts, journal mentions."""
    actor.require(Role.ADMIN, action="exporter les données d'une personne")
    contact = await _contact(session, contact_id)
    data = await privacy.person_export(session, contact=contact)
    terms = (contact.key, contact.display_name, *[c["address"] for c in data["channels"]])
    entries = await _entries_mentioning(session, tuple(t for t in terms if len(t) >= 3))
    data["journal"] = [journal.entry_view(e) for e in entries]
    await journal.append(
        session,
        actor=actor,
        action="contacts.exported",
        now=now,
        payload={"contact_id": contact_id},
    )
    return data


async def _pseudonymise_deliveries(
    session: AsyncSession, *, contact_id: int, erasure: Erasure
) -> int:
    """The outbox keeps the person's deliveries (and their statuses, for the figures) but not
    their name or address; provider errors quoting them are scrubbed too."""
    deliveries = Delivery.__table__  # type: ignore[attr-defined]
    d = deliveries.c
    # The right-hand sides see the row as it was: the old address is scrubbed from the error.
    last_error: sa.ColumnElement[str | None] = sa.func.replace(
        d.last_error, d.address, erasure.pseudonym
    )
    for term in erasure.terms:
        last_error = sa.func.replace(last_error, term, erasure.pseudonym)
    conn = await session.connection()
    result = await conn.execute(
        sa.update(deliveries)
        .where(d.contact_id == contact_id)
        .values(
            recipient_name=ERASED_NAME,
            address=sa.literal(f"effacé-{contact_id}-") + sa.cast(d.id, sa.String),
            last_error=last_error,
            # Nothing is sent any more to a person who is erased.
            status=sa.case(
                (d.status.in_(_UNSENT), sa.literal(DeliveryStatus.CANCELLED.value)),
                else_=d.status,
            ),
            next_attempt_at=sa.case((d.status.in_(_UNSENT), sa.null()), else_=d.next_attempt_at),
        )
    )
    return int(result.rowcount)


async def erase_contact(
    session: AsyncSession, *, actor: Actor, contact_id: int, now: datetime
) -> dict[str, Any]:
    """Pseudonymise a person in place and in the journal payloads; the chain still verifies."""
    actor.require(Role.ADMIN, action="effacer les données d'une personne")
    contact = await _contact(session, contact_id)
    if contact.erased:
        return {
            "contact_id": contact_id,
            "redacted_entries": 0,
            "pseudonymised_deliveries": 0,
            "already_erased": True,
        }
    erasure = await privacy.erase(session, contact=contact, now=now)
    deliveries = await _pseudonymise_deliveries(session, contact_id=contact_id, erasure=erasure)
    entries = await _entries_mentioning(session, erasure.terms)
    for entry in entries:
        assert entry.id is not None
        payload = _scrub(json.loads(entry.payload), erasure.terms, erasure.pseudonym)
        await journal.redact(session, actor=actor, entry_id=entry.id, payload=payload, now=now)
    await journal.append(
        session,
        actor=actor,
        action="contacts.erased",
        now=now,
        payload={
            "contact_id": contact_id,
            "redacted_entries": len(entries),
            "pseudonymised_deliveries": deliveries,
        },
    )
    return {
        "contact_id": contact_id,
        "redacted_entries": len(entries),
        "pseudonymised_deliveries": deliveries,
        "already_erased": False,
    }


async def targeting(
    session: AsyncSession, *, communes: list[str], audiences: list[str], exercise: bool
) -> Targeting:
    """`contacts.targeting.target`, with unknown audiences as InvalidInput."""
    try:
        return await target(session, communes=communes, audiences=audiences, exercise=exercise)
    except ValueError as error:
        raise InvalidInput("invalid_audiences", str(error).capitalize() + ".") from error


async def add_shift(
    session: AsyncSession, *, actor: Actor, now: datetime, **fields: Unpack[roster.ShiftFields]
) -> Shift:
    actor.require(Role.ADMIN, Role.PREFECT, action="modifier l'astreinte")
    try:
        shift = await roster.add_shift(session, **fields)
    except ValueError as error:
        raise InvalidInput("invalid_shift", str(error).capitalize() + ".") from error
    await journal.append(
        session,
        actor=actor,
        action="roster.shift_added",
        now=now,
        payload={
            "shift_id": shift.id,
            "role": fields["role"],
            "level": fields["level"],
            "starts_at": fields["starts_at"].isoformat(),
            "ends_at": fields["ends_at"].isoformat(),
        },
    )
    return shift
