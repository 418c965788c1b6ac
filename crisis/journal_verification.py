"""Verifying the main courante: each chain recomputed link by link, redactions held to the
entries that declared them, and the tail held to a signed checkpoint when one is given
(`crisis.checkpoints`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.journal import (
    GENESIS,
    GLOBAL_CHAIN,
    REDACTION_ACTION,
    JournalEntry,
    JournalHead,
    crisis_chain,
    digest,
    entry_hash,
)

BATCH = 1_000  # entries read by one statement


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


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain's head as a signed checkpoint saw it: the chain must still pass through it."""

    length: int
    last_hash: str


async def _entries(session: AsyncSession, crisis_id: int | None) -> AsyncIterator[JournalEntry]:
    """The chain's entries in order, ``BATCH`` at a time, each batch one statement after the
    last id seen: no server-side cursor, which a read on PostgreSQL (autocommit) cannot hold."""
    after = 0
    while True:
        query = select(JournalEntry).where(col(JournalEntry.id) > after)
        if crisis_id is not None:
            query = query.where(JournalEntry.crisis_id == crisis_id)
        rows = (await session.exec(query.order_by(col(JournalEntry.id)).limit(BATCH))).all()
        for row in rows:
            yield row
        if len(rows) < BATCH:
            return
        after = rows[-1].id or after


async def _redactions(session: AsyncSession) -> dict[int, JournalEntry]:
    """The last redaction entry naming each entry, by the id of the entry it names."""
    query = (
        select(JournalEntry)
        .where(JournalEntry.action == REDACTION_ACTION)
        .order_by(col(JournalEntry.id))
    )
    named: dict[int, JournalEntry] = {}
    for row in (await session.exec(query)).all():
        entry_id = _named_entry(row)
        if entry_id is not None:
            named[entry_id] = row
    return named


def _named_entry(redaction: JournalEntry) -> int | None:
    try:
        value = json.loads(redaction.payload).get("entry_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _redaction_break(entry: JournalEntry, redaction: JournalEntry | None) -> ChainBreak | None:
    """A redacted entry must carry the payload its redaction entry names; an entry named by a
    redaction must still be redacted."""
    if redaction is None:
        if entry.redacted:
            return ChainBreak(entry.id, "entrée pseudonymisée sans entrée d'effacement")
        return None
    if not entry.redacted:
        return ChainBreak(entry.id, "entrée effacée puis rétablie")
    named = json.loads(redaction.payload)
    if (
        redaction.id is None
        or entry.id is None
        or redaction.id <= entry.id
        or named.get("entry_hash") != entry.hash
        or named.get("payload_digest") != digest(entry.payload)
    ):
        return ChainBreak(entry.id, "contenu pseudonymisé modifié")
    return None


async def _in_global_chain(session: AsyncSession, entry: JournalEntry) -> bool:
    """`entry` is intact and linked to its neighbours of the global chain (for `verify` of one
    crisis, which does not walk the global chain where redaction entries sit)."""
    if digest(entry.payload) != entry.payload_digest or entry_hash(entry) != entry.hash:
        return False
    ids = col(JournalEntry.id)
    before = select(JournalEntry.hash).where(ids < entry.id).order_by(ids.desc()).limit(1)
    if ((await session.exec(before)).first() or GENESIS) != entry.prev_hash:
        return False
    after = select(JournalEntry.prev_hash).where(ids > entry.id).order_by(ids).limit(1)
    successor = (await session.exec(after)).first()
    if successor is not None:
        return successor == entry.hash
    head = await session.get(JournalHead, GLOBAL_CHAIN)
    return head is not None and head.last_hash == entry.hash


async def _crisis_redactions(
    session: AsyncSession, crisis_id: int, named: dict[int, JournalEntry]
) -> ChainBreak | None:
    """The redaction entries naming entries of one crisis, checked in the global chain."""
    query = select(JournalEntry.id).where(
        JournalEntry.crisis_id == crisis_id, col(JournalEntry.redacted).is_(True)
    )
    for entry_id in (await session.exec(query)).all():
        redaction = named.get(entry_id) if entry_id is not None else None
        if redaction is not None and not await _in_global_chain(session, redaction):
            return ChainBreak(redaction.id, "entrée d'effacement altérée")
    return None


def _anchor_break(anchor: Anchor | None, checked: int, previous: str) -> ChainBreak | None:
    """At the checkpoint's length, the chain must carry the checkpoint's hash."""
    if anchor is not None and checked == anchor.length and previous != anchor.last_hash:
        return ChainBreak(None, "la chaîne ne passe plus par le point de contrôle")
    return None


def _short_of(anchor: Anchor | None, checked: int) -> ChainBreak | None:
    if anchor is None or checked >= anchor.length:
        return None
    if checked == 0:
        reason = f"main courante vidée ({anchor.length} entrées au point de contrôle)"
        return ChainBreak(None, reason)
    return ChainBreak(
        None,
        f"chaîne tronquée : {checked} entrées, {anchor.length} au point de contrôle",
    )


async def verify(
    session: AsyncSession, *, crisis_id: int | None = None, anchor: Anchor | None = None
) -> VerifyReport:
    """Recompute a chain (the global one, or one crisis'); report the first broken link.

    With an `anchor` (a verified checkpoint), the chain must also be at least as long as the
    checkpoint and carry its hash at its length: a cut tail or an emptied journal is a break.
    """
    chain = GLOBAL_CHAIN if crisis_id is None else crisis_chain(crisis_id)
    # The head first, the entries up to its length: on PostgreSQL each statement sees what is
    # committed when it starts, and an entry appended meanwhile is not a truncated tail.
    head = await session.get(JournalHead, chain)
    expected = (head.length, head.last_hash) if head else (0, GENESIS)
    named = await _redactions(session)
    if crisis_id is not None and (broken := await _crisis_redactions(session, crisis_id, named)):
        return VerifyReport(chain, 0, broken)
    previous = GENESIS
    checked = 0
    async for entry in _entries(session, crisis_id):
        if checked == expected[0]:
            break  # appended after the head was read
        if broken := _anchor_break(anchor, checked, previous):
            return VerifyReport(chain, checked, broken)
        link = entry.prev_hash if crisis_id is None else entry.crisis_prev_hash
        if link != previous:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "maillon précédent absent"))
        if not entry.redacted and digest(entry.payload) != entry.payload_digest:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "contenu modifié"))
        if broken := _redaction_break(entry, named.get(entry.id or 0)):
            return VerifyReport(chain, checked, broken)
        if entry_hash(entry) != entry.hash:
            return VerifyReport(chain, checked, ChainBreak(entry.id, "empreinte incorrecte"))
        previous = entry.hash
        checked += 1
    if broken := _anchor_break(anchor, checked, previous) or _short_of(anchor, checked):
        return VerifyReport(chain, checked, broken)
    if expected != (checked, previous):
        return VerifyReport(chain, checked, ChainBreak(None, "fin de chaîne tronquée"))
    return VerifyReport(chain, checked, None)
