"""The main courante: an append-only, SHA-256 hash-chained log of everything done.

Every entry links to the previous entry of the whole journal (`prev_hash`) and to the previous
entry of its crisis (`crisis_prev_hash`), so both chains can be verified on their own. The hash
covers a digest of the payload rather than the payload itself: erasing personal data replaces a
payload by its pseudonymised form (`redacted`), and the chain stays verifiable. Each redaction is
itself an entry of the global chain (`journal.redacted`) naming the entry and the digest of its
new payload: `crisis.journal_verification` checks every redacted payload against it, so a
redacted payload cannot be rewritten unseen. The database alone cannot prove that its chain was
not cut or emptied; signed checkpoints kept outside it do (`crisis.checkpoints`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm.util import identity_key
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from storage.backend import insert_or_ignore
from storage.types import UTCDateTime

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"
REDACTION_ACTION = "journal.redacted"


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


def link_hash(
    *,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    crisis_id: int | None,
    payload_digest: str,
    prev_hash: str,
    crisis_prev_hash: str | None,
) -> str:
    """The hash of one link, from plain values (`journal_batch` computes it the same way)."""
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    material = [stamp, actor_id, actor, action, crisis_id, payload_digest, prev_hash]
    return digest(canonical_json([*material, crisis_prev_hash]))


def entry_hash(entry: JournalEntry) -> str:
    return link_hash(
        at=entry.at,
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        crisis_id=entry.crisis_id,
        payload_digest=entry.payload_digest,
        prev_hash=entry.prev_hash,
        crisis_prev_hash=entry.crisis_prev_hash,
    )


def crisis_chain(crisis_id: int) -> str:
    return f"crisis:{crisis_id}"


HEADS = JournalHead.__table__  # type: ignore[attr-defined]
ENTRIES = JournalEntry.__table__  # type: ignore[attr-defined]
# The global head first, as `journal_batch` locks them: PostgreSQL sorts, then locks in order.
_LOCK_HEADS = (
    sa.select(HEADS.c.chain, HEADS.c.length, HEADS.c.last_hash)
    .where(HEADS.c.chain.in_([sa.bindparam("first"), sa.bindparam("second")]))
    .order_by(sa.case((HEADS.c.chain == sa.bindparam("first"), 0), else_=1))
    .with_for_update()
)
_MOVE_HEADS = (
    sa.update(HEADS)
    .where(HEADS.c.chain.in_([sa.bindparam("first"), sa.bindparam("second")]))
    .values(length=HEADS.c.length + 1, last_hash=sa.bindparam("last_hash"))
)


async def _locked_heads(conn: AsyncConnection, chains: list[str]) -> list[tuple[int, str]]:
    """(length, last hash) of each of `chains` (the global one first), locked until the
    transaction ends: one statement when they all exist. A missing head is created only once
    the heads before it are locked, as `journal_batch` does (else two writers creating heads
    could each hold one the other waits for)."""
    names = {"first": chains[0], "second": chains[-1]}
    found = {chain: (n, last) for chain, n, last in await conn.execute(_LOCK_HEADS, names)}
    if len(found) < len(chains):
        insert = insert_or_ignore(conn, JournalHead, index_elements=["chain"])
        for chain in chains:
            await conn.execute(insert.values(chain=chain, length=0, last_hash=GENESIS))
            locked = {"first": chain, "second": chain}
            for name, n, last in await conn.execute(_LOCK_HEADS, locked):
                found[name] = (n, last)
    return [found[chain] for chain in chains]


def _forget_heads(session: AsyncSession, chains: list[str]) -> None:
    """Heads loaded as objects in this session are stale once moved by a statement."""
    for chain in chains:
        loaded = session.sync_session.identity_map.get(identity_key(JournalHead, chain))
        if loaded is not None:
            session.expire(loaded)


async def append(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    crisis_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> JournalEntry:
    """Append one entry in the caller's transaction (the journal commits with the action).

    Three statements on plain rows: lock the heads, insert the entry, move the heads (the
    session's pending objects are flushed first, so that they precede the entry)."""
    await session.flush()
    conn = await session.connection()
    chains = [GLOBAL_CHAIN, crisis_chain(crisis_id)] if crisis_id else [GLOBAL_CHAIN]
    heads = await _locked_heads(conn, chains)
    text = canonical_json(dict(payload or {}))
    entry = JournalEntry(
        at=now,
        actor_id=actor.user_id,
        actor=actor.login,
        action=action,
        crisis_id=crisis_id,
        payload=text,
        payload_digest=digest(text),
        redacted=False,
        prev_hash=heads[0][1],
        crisis_prev_hash=heads[1][1] if crisis_id else None,
    )
    entry.hash = entry_hash(entry)
    values = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
    inserted = (await conn.execute(sa.insert(ENTRIES), values)).inserted_primary_key
    assert inserted is not None
    entry.id = inserted[0]
    await conn.execute(
        _MOVE_HEADS, {"first": chains[0], "second": chains[-1], "last_hash": entry.hash}
    )
    _forget_heads(session, chains)
    return entry


_ENTRY_FIELDS = (
    "at",
    "actor_id",
    "actor",
    "action",
    "crisis_id",
    "payload",
    "payload_digest",
    "redacted",
    "prev_hash",
    "crisis_prev_hash",
    "hash",
)


async def redact(
    session: AsyncSession,
    *,
    actor: Actor,
    entry_id: int,
    payload: Mapping[str, Any],
    now: datetime,
) -> JournalEntry | None:
    """Replace an entry's payload by a pseudonymised one, in the caller's transaction.

    The entry's digest, hence the chain, stays; a `journal.redacted` entry of the global chain
    names the entry and the digest of its new payload, which `journal_verification.verify` holds
    it to.
    """
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        return None
    entry.payload = canonical_json(dict(payload))
    entry.redacted = True
    session.add(entry)
    return await append(
        session,
        actor=actor,
        action=REDACTION_ACTION,
        now=now,
        payload={
            "entry_id": entry_id,
            "entry_hash": entry.hash,
            "crisis_id": entry.crisis_id,
            "payload_digest": digest(entry.payload),
        },
    )


async def head_of(session: AsyncSession, chain: str) -> JournalHead | None:
    return await session.get(JournalHead, chain)


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


async def latest_for_crisis(
    session: AsyncSession, *, crisis_id: int, limit: int
) -> tuple[list[JournalEntry], int]:
    """The crisis' last `limit` entries, oldest first, and how many it has in all."""
    newest = (
        select(JournalEntry)
        .where(JournalEntry.crisis_id == crisis_id)
        .order_by(col(JournalEntry.id).desc())
        .limit(limit)
    )
    entries = list((await session.exec(newest)).all())
    total = len(entries)
    if total == limit:
        counted = select(sa.func.count()).where(JournalEntry.crisis_id == crisis_id)
        total = int((await session.exec(counted)).one())
    return entries[::-1], total


async def recent(session: AsyncSession, *, limit: int = 200) -> list[JournalEntry]:
    query = select(JournalEntry).order_by(col(JournalEntry.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def length(session: AsyncSession) -> int:
    head = await session.get(JournalHead, GLOBAL_CHAIN)
    return head.length if head else 0
