"""The main courante: an append-only, SHA-256 hash-chained log of everything done.

Every entry links to the previous entry of the whole journal (`prev_hash`) and to the previous
entry of its crisis (`crisis_prev_hash`), so both chains can be verified on their own. The hash
covers a digest of the payload rather than the payload itself: erasing personal data replaces a
payload by its pseudonymised form (`redacted`), and the chain stays verifiable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from storage.backend import insert_or_ignore
from storage.types import UTCDateTime

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None)
    actor: str
    action: str = Field(index=True)
    crisis_id: int | None = Field(default=None, index=True)
    payload: str = Field(sa_type=sa.Text)
    payload_digest: str = Field(max_length=64)
    redacted: bool = False
    prev_hash: str = Field(max_length=64)
    crisis_prev_hash: str | None = Field(default=None, max_length=64)
    hash: str = Field(default="", max_length=64, unique=True)


class JournalHead(SQLModel, table=True):
    """The last link of each chain, so that cutting the tail of a chain is detected too."""

    __tablename__ = "journal_head"

    chain: str = Field(primary_key=True, max_length=40)
    length: int = 0
    last_hash: str = Field(default=GENESIS, max_length=64)


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: JournalEntry) -> str:
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    material = canonical_json(
        [
            at,
            entry.actor_id,
            entry.actor,
            entry.action,
            entry.crisis_id,
            entry.payload_digest,
            entry.prev_hash,
            entry.crisis_prev_hash,
        ]
    )
    return digest(material)


def crisis_chain(crisis_id: int) -> str:
    return f"crisis:{crisis_id}"


async def _locked_head(session: AsyncSession, chain: str) -> JournalHead:
    """The head row of `chain`, created if missing, locked until the transaction ends."""
    conn = await session.connection()
    stmt = insert_or_ignore(conn, JournalHead, index_elements=["chain"])
    await conn.execute(stmt.values(chain=chain, length=0, last_hash=GENESIS))
    query = select(JournalHead).where(JournalHead.chain == chain).with_for_update()
    head = (await session.exec(query.execution_options(populate_existing=True))).one()
    return head


async def append(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    crisis_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> JournalEntry:
    """Append one entry in the caller's transaction (the journal commits with the action)."""
    global_head = await _locked_head(session, GLOBAL_CHAIN)
    crisis_head = await _locked_head(session, crisis_chain(crisis_id)) if crisis_id else None
    text = canonical_json(dict(payload or {}))
    entry = JournalEntry(
        at=now,
        actor_id=actor.user_id,
        actor=actor.login,
        action=action,
        crisis_id=crisis_id,
        payload=text,
        payload_digest=digest(text),
        prev_hash=global_head.last_hash,
        crisis_prev_hash=crisis_head.last_hash if crisis_head else None,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    global_head.length += 1
    global_head.last_hash = entry.hash
    session.add(global_head)
    if crisis_head is not None:
        crisis_head.length += 1
        crisis_head.last_hash = entry.hash
        session.add(crisis_head)
    await session.flush()
    return entry


async def redact(session: AsyncSession, *, entry_id: int, payload: Mapping[str, Any]) -> None:
    """Replace an entry's payload by a pseudonymised one; its digest, hence the chain, stays."""
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        return
    entry.payload = canonical_json(dict(payload))
    entry.redacted = True
    session.add(entry)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    entry_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chain: str
    checked: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def _entries(session: AsyncSession, crisis_id: int | None) -> AsyncIterator[JournalEntry]:
    query = select(JournalEntry).order_by(col(JournalEntry.id))
    if crisis_id is not None:
        query = query.where(JournalEntry.crisis_id == crisis_id)
    result = await session.stream(query.execution_options(yield_per=1000))
    async for row in result.scalars():
        yield row


async def verify(session: AsyncSession, *, crisis_id: int | None = None) -> VerifyReport:
    """Recompute a chain (the global one, or one crisis'); report the first broken link."""
    chain = GLOBAL_CHAIN if crisis_id is None else crisis_chain(crisis_id)
    previous = GENESIS
    checked = 0
    async for entry in _entries(session, crisis_id):
        link = entry.prev_hash if crisis_id is None else entry.crisis_prev_hash
        if link != previous:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "maillon précédent absent"))
        if not entry.redacted and digest(entry.payload) != entry.payload_digest:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "contenu modifié"))
        if entry_hash(entry) != entry.hash:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "empreinte incorrecte"))
        previous = entry.hash
        checked += 1
    head = await session.get(JournalHead, chain)
    expected = (head.length, head.last_hash) if head else (0, GENESIS)
    if expected != (checked, previous):
        return VerifyReport(chain, checked, ChainBreak(None, "fin de chaîne tronquée"))
    return VerifyReport(chain, checked, None)


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    """The public shape of an entry (API and pages)."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "crisis_id": entry.crisis_id,
        "payload": json.loads(entry.payload),
        "redacted": entry.redacted,
        "prev_hash": entry.prev_hash if entry.crisis_id is None else entry.crisis_prev_hash,
        "global_prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


async def for_crisis(
    session: AsyncSession, *, crisis_id: int, limit: int = 1000
) -> list[JournalEntry]:
    query = (
        select(JournalEntry)
        .where(JournalEntry.crisis_id == crisis_id)
        .order_by(col(JournalEntry.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def recent(session: AsyncSession, *, limit: int = 200) -> list[JournalEntry]:
    query = select(JournalEntry).order_by(col(JournalEntry.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def length(session: AsyncSession) -> int:
    head = await session.get(JournalHead, GLOBAL_CHAIN)
    return head.length if head else 0
