"""The public answers, rendered once and kept until the next publication.

A flood on the public pages must not reach the database: each rendered answer is kept in
memory under its URL's meaning (path, mode, commune, language). What invalidates it is read
cheaply from the database — the number of published bulletins, the latest publication, the
number of closed crises (a closure moves bulletins to the archive) — at most once per
`stamp_ttl` seconds, so that a publication made by any process is visible everywhere within
that time (0.5 s by default: published to visible within one second). Anything else an answer
shows is refreshed after `max_age` seconds."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.bulletin.record import Bulletin
from crisis.cell.crises import Crisis
from crisis.cip import public as cip_public
from crisis.vocabulary import BulletinStatus, CrisisStatus

Stamp = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str
    last_modified: datetime | None = None
    status: int = 200
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.body).hexdigest()[:32]
        object.__setattr__(self, "etag", f'"{digest}"')


async def publication_stamp(session: AsyncSession) -> Stamp:
    """What changes whenever something public may have changed: one small query."""
    published = select(func.count(col(Bulletin.id)), func.max(Bulletin.published_at)).where(
        Bulletin.status == BulletinStatus.PUBLISHED
    )
    count, latest = (await session.exec(published)).one()
    closed = select(func.count(col(Crisis.id))).where(Crisis.status == CrisisStatus.CLOSED)
    cip = await cip_public.stamp(session)  # the CIP's number shows while it is open
    return (count, latest, (await session.exec(closed)).one(), *cip)


@dataclass(slots=True)
class _Entry:
    rendered: Rendered
    built_at: float


class PublicCache:
    def __init__(
        self,
        *,
        monotonic: Callable[[], float],
        stamp_ttl: float = 0.5,
        max_age: float = 60.0,
        max_entries: int = 1024,
    ) -> None:
        self._monotonic = monotonic
        self._stamp_ttl = stamp_ttl
        self._max_age = max_age
        self._max_entries = max_entries
        self._stamp: Stamp | None = None
        self._stamp_read_at = float("-inf")
        self._entries: dict[Hashable, _Entry] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._stamp_lock = asyncio.Lock()
        self.builds = 0
        """How many answers were rendered (a test and the bench read it)."""

    def held(self) -> int:
        """How many answers and key locks it holds (bounded, whatever the requests)."""
        return len(self._entries) + len(self._locks)

    def clear(self) -> None:
        self._entries.clear()
        self._stamp_read_at = float("-inf")

    async def _check_stamp(self, read_stamp: Callable[[], Awaitable[Stamp]]) -> None:
        if self._monotonic() - self._stamp_read_at < self._stamp_ttl:
            return
        if self._stamp_lock.locked() and self._stamp is not None:
            return  # another request is reading it: serve what we have meanwhile
        async with self._stamp_lock:
            if self._monotonic() - self._stamp_read_at < self._stamp_ttl:
                return
            stamp = await read_stamp()
            if stamp != self._stamp:
                self._entries.clear()
                self._stamp = stamp
            self._stamp_read_at = self._monotonic()

    async def answer(
        self,
        key: Hashable,
        *,
        read_stamp: Callable[[], Awaitable[Stamp]],
        build: Callable[[], Awaitable[Rendered]],
    ) -> Rendered:
        """The kept answer for `key`, or `build()`'s, kept until the stamp changes."""
        await self._check_stamp(read_stamp)
        entry = self._fresh(key)
        if entry is not None:
            return entry.rendered
        if len(self._locks) > 2 * self._max_entries:  # unknown names must not pile up
            self._locks.clear()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._fresh(key)
            if entry is not None:
                return entry.rendered
            rendered = await build()
            self.builds += 1
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = _Entry(rendered, self._monotonic())
            return rendered

    async def kept(
        self, key: Hashable, *, read_stamp: Callable[[], Awaitable[Stamp]]
    ) -> Rendered | None:
        """The kept answer for `key` if it is still valid; None (nothing built) otherwise."""
        await self._check_stamp(read_stamp)
        entry = self._fresh(key)
        return entry.rendered if entry is not None else None

    def _fresh(self, key: Hashable) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or self._monotonic() - entry.built_at > self._max_age:
            return None
        return entry
