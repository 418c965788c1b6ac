"""`Idempotency-Key`: the same key from the same user on the same route replays the answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.app.db import Database
from crisis.errors import InvalidInput
from storage.types import UTCDateTime

HEADER = "idempotency-key"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int
    scope: str = Field(max_length=200)
    key: str = Field(max_length=200)
    request_digest: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


Action = Callable[[AsyncSession], Awaitable[tuple[int, dict[str, Any]]]]


async def _record(
    session: AsyncSession, *, user_id: int, scope: str, key: str
) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id,
        IdempotencyRecord.scope == scope,
        IdempotencyRecord.key == key,
    )
    return (await session.exec(query)).first()


async def _replay(
    session: AsyncSession, *, user_id: int, scope: str, key: str, digest: str
) -> JSONResponse | None:
    record = await _record(session, user_id=user_id, scope=scope, key=key)
    if record is None:
        return None
    if record.request_digest != digest:
        raise InvalidInput(
            "idempotency_key_reused",
            "Cette clé d'idempotence a déjà servi pour une autre requête.",
        )
    response = JSONResponse(json.loads(record.body), status_code=record.status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def run(
    request: Request, db: Database, *, actor: Actor, now: datetime, action: Action
) -> JSONResponse:
    """Run `action` in one transaction, once per `Idempotency-Key` when one is given."""
    key = request.headers.get(HEADER)
    if not key or actor.user_id is None:
        async with db.transaction() as session:
            status, body = await action(session)
        return JSONResponse(body, status_code=status)
    if len(key) > 200:
        raise InvalidInput("invalid_idempotency_key", "Clé d'idempotence trop longue (200 max).")
    scope = f"{request.method} {request.url.path}"
    digest = hashlib.sha256(await request.body()).hexdigest()
    try:
        async with db.transaction() as session:
            replay = await _replay(
                session, user_id=actor.user_id, scope=scope, key=key, digest=digest
            )
            if replay is not None:
                return replay
            status, body = await action(session)
            session.add(
                IdempotencyRecord(
                    user_id=actor.user_id,
                    scope=scope,
                    key=key,
                    request_digest=digest,
                    status=status,
                    body=json.dumps(body, ensure_ascii=False, default=str),
                    created_at=now,
                )
            )
    except IntegrityError:
        # The same key raced in from another request: its answer is the answer.
        async with db.read() as session:
            replay = await _replay(
                session, user_id=actor.user_id, scope=scope, key=key, digest=digest
            )
        if replay is None:
            raise
        return replay
    return JSONResponse(body, status_code=status)


def form_digest(form: dict[str, Any]) -> str:
    """A web form's content, its CSRF token and its key left out."""
    kept = sorted((k, str(v)) for k, v in form.items() if k not in ("csrf_token", "call_key"))
    return hashlib.sha256(json.dumps(kept, ensure_ascii=False).encode()).hexdigest()


async def form_result(
    session: AsyncSession, *, user_id: int | None, scope: str, key: str, digest: str
) -> dict[str, Any] | None:
    """What the same web form sent before under ``key`` saved (a resubmission after a lost
    answer); None for another content under the same key (two tabs sharing one draft)."""
    if not key or user_id is None:
        return None
    record = await _record(session, user_id=user_id, scope=scope, key=key)
    if record is None or record.request_digest != digest:
        return None
    return dict(json.loads(record.body))


async def remember_form(
    session: AsyncSession,
    *,
    user_id: int | None,
    scope: str,
    key: str,
    digest: str,
    result: dict[str, Any],
    now: datetime,
) -> None:
    """Keep what a web form saved under its ``key``, in the transaction that saved it (a key
    already taken by another content is not kept again)."""
    if not key or user_id is None:
        return
    taken = await session.exec(
        select(IdempotencyRecord.id).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
        )
    )
    if taken.first() is not None:
        return
    session.add(
        IdempotencyRecord(
            user_id=user_id,
            scope=scope,
            key=key,
            request_digest=digest,
            status=201,
            body=json.dumps(result),
            created_at=now,
        )
    )
