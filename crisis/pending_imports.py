"""A file checked by a dry run, kept a short while so that « Importer ce fichier » applies it.

The file stays in the database (every instance sees it), bound to the web session that sent it
and to its SHA-256: the confirmation names the digest only, never a path, and another session,
another digest or an expired file finds nothing. It is deleted once applied (a refused import
keeps it until it expires), and expired ones go whenever a new file is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import UTCDateTime

KEEP_FOR = timedelta(minutes=30)
DIGEST_LENGTH = 64
GONE = (
    "Le fichier vérifié n'est plus disponible (plus de 30 minutes, autre session ou déjà "
    "importé) : choisissez-le de nouveau."
)


class PendingImport(SQLModel, table=True):
    __tablename__ = "pending_import"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(index=True)
    kind: str = Field(max_length=20)
    fmt: str = Field(max_length=20)
    filename: str = Field(default="", max_length=255)
    sha256: str = Field(max_length=DIGEST_LENGTH)
    content: bytes = Field(sa_type=sa.LargeBinary)
    expires_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class Kept:
    """What the dry run's page shows and the confirmation sends back."""

    sha256: str
    filename: str
    expires_at: datetime


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def keep(
    session: AsyncSession,
    *,
    session_id: int,
    kind: str,
    fmt: str,
    filename: str,
    content: bytes,
    now: datetime,
) -> Kept:
    """Keep a checked file for `KEEP_FOR`; the session's earlier file of this kind is replaced."""
    await session.exec(
        delete(PendingImport).where(
            sa.or_(
                col(PendingImport.expires_at) <= now,
                sa.and_(
                    col(PendingImport.session_id) == session_id, col(PendingImport.kind) == kind
                ),
            )
        )
    )
    row = PendingImport(
        session_id=session_id,
        kind=kind,
        fmt=fmt,
        filename=filename[:255],
        sha256=digest(content),
        content=content,
        expires_at=now + KEEP_FOR,
    )
    session.add(row)
    await session.flush()
    return Kept(row.sha256, row.filename, row.expires_at)


async def find(
    session: AsyncSession, *, session_id: int, kind: str, sha256: str, now: datetime
) -> PendingImport | None:
    """The file this session kept under this digest, if it is still fresh."""
    row = (
        await session.exec(
            select(PendingImport).where(
                PendingImport.session_id == session_id,
                PendingImport.kind == kind,
                PendingImport.sha256 == sha256,
                col(PendingImport.expires_at) > now,
            )
        )
    ).first()
    return row if row is not None and digest(row.content) == sha256 else None


async def discard(session: AsyncSession, *, row: PendingImport) -> None:
    """Once applied, the kept file goes."""
    await session.delete(row)
    await session.flush()
