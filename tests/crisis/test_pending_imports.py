"""Issue 18 item 12: a file checked by a dry run is found again only by its session, under its
SHA-256, for 30 minutes."""

from __future__ import annotations

from crisis import pending_imports
from crisis.app.db import Database
from tests.support import FrozenClock


async def _keep(db: Database, clock: FrozenClock, session_id: int, content: bytes) -> str:
    async with db.transaction() as session:
        kept = await pending_imports.keep(
            session, session_id=session_id, kind="directory", fmt="tocsin",
            filename="annuaire.csv", content=content, now=clock.now(),
        )  # fmt: skip
    return kept.sha256


async def _find(db: Database, clock: FrozenClock, session_id: int, sha256: str) -> bytes | None:
    async with db.read() as session:
        row = await pending_imports.find(
            session, session_id=session_id, kind="directory", sha256=sha256, now=clock.now()
        )
    return row.content if row else None


async def test_a_kept_file_is_found_by_its_session_and_digest_only(
    db: Database, clock: FrozenClock
) -> None:
    sha256 = await _keep(db, clock, 7, b"cle;nom\nx;X\n")
    assert sha256 == pending_imports.digest(b"cle;nom\nx;X\n")
    assert await _find(db, clock, 7, sha256) == b"cle;nom\nx;X\n"
    assert await _find(db, clock, 8, sha256) is None  # another session
    assert await _find(db, clock, 7, "0" * 64) is None  # another digest


async def test_a_kept_file_expires_after_thirty_minutes_and_a_new_one_replaces_it(
    db: Database, clock: FrozenClock
) -> None:
    first = await _keep(db, clock, 7, b"premier")
    second = await _keep(db, clock, 7, b"second")
    assert await _find(db, clock, 7, first) is None
    clock.advance(minutes=29)
    assert await _find(db, clock, 7, second) == b"second"
    clock.advance(minutes=1)
    assert await _find(db, clock, 7, second) is None
