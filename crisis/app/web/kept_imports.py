"""« Importer ce fichier »: the web side of `crisis.pending_imports`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import pending_imports
from crisis.app.db import Database

DIGEST_PATTERN = r"^[0-9a-f]{64}$"


class Report(Protocol):
    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=Report)


async def keep_checked(
    request: Request,
    db: Database,
    *,
    kind: str,
    fmt: str,
    filename: str,
    content: bytes,
    now: datetime,
) -> pending_imports.Kept | None:
    """Keep a file a dry run accepted, for this web session only (none for a bearer token)."""
    session_id = getattr(request.state, "session_id", None)
    if session_id is None:
        return None
    async with db.transaction() as session:
        return await pending_imports.keep(
            session,
            session_id=session_id,
            kind=kind,
            fmt=fmt,
            filename=filename,
            content=content,
            now=now,
        )


async def apply_kept(
    request: Request,
    db: Database,
    *,
    kind: str,
    sha256: str,
    now: datetime,
    run: Callable[[AsyncSession, pending_imports.PendingImport], Awaitable[R]],
) -> tuple[pending_imports.PendingImport, R] | None:
    """Import the file this session kept under `sha256`, in one transaction; None when gone.

    The kept file goes once imported; a refused import leaves it until it expires.
    """
    session_id = getattr(request.state, "session_id", None) or 0
    async with db.transaction() as session:
        kept = await pending_imports.find(
            session, session_id=session_id, kind=kind, sha256=sha256, now=now
        )
        if kept is None:
            return None
        report = await run(session, kept)
        if report.ok:
            await pending_imports.discard(session, row=kept)
    return kept, report
