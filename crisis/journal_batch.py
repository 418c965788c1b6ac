"""A burst of journal entries in one go (a thousand clock alerts at once).

The chains and hashes are those of `journal.append`, computed on plain values: the heads of
the chains are locked once (the global one first, as `append` does), the entries are written in
chain order, and the heads move once. On PostgreSQL each step is one statement over arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.journal import (
    GENESIS,
    GLOBAL_CHAIN,
    REDACTION_ACTION,
    JournalEntry,
    JournalHead,
    canonical_json,
    crisis_chain,
    digest,
    link_hash,
)
from storage.backend import insert_or_ignore, on_postgres


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """One entry of `append_many`."""

    actor: Actor
    action: str
    crisis_id: int | None = None
    payload: Mapping[str, Any] | None = None


HEADS = JournalHead.__table__  # type: ignore[attr-defined]
ENTRIES = JournalEntry.__table__  # type: ignore[attr-defined]


# PostgreSQL: a burst in a few statements over arrays, one execution each (an executemany
# would run each statement, and the journal's notify trigger, once per row).
_HEADS_CREATE_POSTGRES = sa.text(
    "INSERT INTO journal_head (chain, length, last_hash)"
    " SELECT chain, 0, :genesis FROM unnest(CAST(:chains AS VARCHAR[])) AS u(chain)"
    " ON CONFLICT (chain) DO NOTHING"
)
_HEADS_LOCK_POSTGRES = sa.text(
    "SELECT chain, length, last_hash FROM journal_head"
    " WHERE chain = ANY(CAST(:chains AS VARCHAR[])) ORDER BY chain FOR UPDATE"
)
# The entries draw their ids in the order of the arrays (sorted by ordinality before the
# INSERT evaluates the sequence), which is the order of the chains: `verify` reads by id.
_ENTRIES_POSTGRES = sa.text(
    "INSERT INTO journal_entry (at, actor_id, actor, action, crisis_id, payload,"
    " payload_digest, redacted, prev_hash, crisis_prev_hash, hash)"
    " SELECT CAST(:at AS TIMESTAMPTZ), actor_id, actor, action, crisis_id, payload,"
    " payload_digest, false, prev_hash, crisis_prev_hash, hash"
    " FROM unnest(CAST(:actor_id AS INTEGER[]), CAST(:actor AS VARCHAR[]),"
    " CAST(:action AS VARCHAR[]), CAST(:crisis_id AS INTEGER[]), CAST(:payload AS TEXT[]),"
    " CAST(:payload_digest AS VARCHAR[]), CAST(:prev_hash AS VARCHAR[]),"
    " CAST(:crisis_prev_hash AS VARCHAR[]), CAST(:hash AS VARCHAR[]))"
    " WITH ORDINALITY AS u(actor_id, actor, action, crisis_id, payload, payload_digest,"
    " prev_hash, crisis_prev_hash, hash, n)"
    " ORDER BY n"
)
_HEADS_UPDATE_POSTGRES = sa.text(
    "UPDATE journal_head AS h SET length = u.length, last_hash = u.last_hash"
    " FROM unnest(CAST(:chains AS VARCHAR[]), CAST(:lengths AS INTEGER[]),"
    " CAST(:hashes AS VARCHAR[])) AS u(chain, length, last_hash)"
    " WHERE h.chain = u.chain"
)
_ENTRY_COLUMNS = (
    "actor_id",
    "actor",
    "action",
    "crisis_id",
    "payload",
    "payload_digest",
    "prev_hash",
    "crisis_prev_hash",
    "hash",
)


async def _locked_head_rows(session: AsyncSession, chains: list[str]) -> dict[str, list[Any]]:
    """[length, last_hash] of each chain (created if missing), locked until the end."""
    conn = await session.connection()
    if on_postgres(conn):
        await conn.execute(_HEADS_CREATE_POSTGRES, {"chains": chains, "genesis": GENESIS})
        found = await conn.execute(_HEADS_LOCK_POSTGRES, {"chains": chains})
        return {chain: [count, last] for chain, count, last in found.all()}
    rows = [{"chain": chain, "length": 0, "last_hash": GENESIS} for chain in chains]
    # executemany of one cached statement: a multi-row VALUES would be compiled every time
    insert = insert_or_ignore(conn, HEADS, index_elements=["chain"])
    await conn.execute(insert, rows)
    query = (
        sa.select(HEADS.c.chain, HEADS.c.length, HEADS.c.last_hash)
        .where(HEADS.c.chain.in_(chains))
        .order_by(HEADS.c.chain)
        .with_for_update()
    )
    return {chain: [count, last] for chain, count, last in (await conn.execute(query)).all()}


async def _write(
    session: AsyncSession, rows: list[dict[str, Any]], heads: dict[str, list[Any]], now: datetime
) -> None:
    """Insert the entries, in chain order, and move the heads."""
    conn = await session.connection()
    if on_postgres(conn):
        columns = {name: [row[name] for row in rows] for name in _ENTRY_COLUMNS}
        await conn.execute(_ENTRIES_POSTGRES, columns | {"at": now})
        chains = list(heads)
        await conn.execute(
            _HEADS_UPDATE_POSTGRES,
            {
                "chains": chains,
                "lengths": [heads[chain][0] for chain in chains],
                "hashes": [heads[chain][1] for chain in chains],
            },
        )
        return
    for start in range(0, len(rows), 1000):
        await conn.execute(sa.insert(ENTRIES), rows[start : start + 1000])
    update = (
        sa.update(HEADS)
        .where(HEADS.c.chain == sa.bindparam("b_chain"))
        .values(length=sa.bindparam("b_length"), last_hash=sa.bindparam("b_last_hash"))
    )
    await conn.execute(
        update,
        [
            {"b_chain": chain, "b_length": count, "b_last_hash": last}
            for chain, (count, last) in heads.items()
        ],
    )


async def append_many(session: AsyncSession, *, entries: list[Pending], now: datetime) -> None:
    """Append several entries in the caller's transaction: one lock per chain, one insert.

    For bursts (a thousand clock alerts at once); the chains and hashes are those of `append`,
    computed on plain values (Core rows, no model objects).
    """
    if not entries:
        return
    if any(e.action == REDACTION_ACTION for e in entries):
        raise ValueError("a redaction goes through journal.redact, which rewrites the entry")
    await session.flush()  # model objects added before go in first, as with `append`
    crisis_chains = sorted({crisis_chain(e.crisis_id) for e in entries if e.crisis_id})
    heads = await _locked_head_rows(session, [GLOBAL_CHAIN])  # always first, as `append` does
    for start in range(0, len(crisis_chains), 500):
        heads |= await _locked_head_rows(session, crisis_chains[start : start + 500])
    global_head = heads[GLOBAL_CHAIN]
    rows: list[dict[str, Any]] = []
    for pending in entries:
        crisis_head = heads[crisis_chain(pending.crisis_id)] if pending.crisis_id else None
        text = canonical_json(dict(pending.payload or {}))
        payload_digest = digest(text)
        prev_hash = global_head[1]
        crisis_prev_hash = crisis_head[1] if crisis_head else None
        link = link_hash(
            at=now,
            actor_id=pending.actor.user_id,
            actor=pending.actor.login,
            action=pending.action,
            crisis_id=pending.crisis_id,
            payload_digest=payload_digest,
            prev_hash=prev_hash,
            crisis_prev_hash=crisis_prev_hash,
        )
        rows.append(
            {
                "at": now,
                "actor_id": pending.actor.user_id,
                "actor": pending.actor.login,
                "action": pending.action,
                "crisis_id": pending.crisis_id,
                "payload": text,
                "payload_digest": payload_digest,
                "redacted": False,
                "prev_hash": prev_hash,
                "crisis_prev_hash": crisis_prev_hash,
                "hash": link,
            }
        )
        global_head[0] += 1
        global_head[1] = link
        if crisis_head is not None:
            crisis_head[0] += 1
            crisis_head[1] = link
    await _write(session, rows, heads, now)
