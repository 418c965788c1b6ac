"""What anyone may read without an account: the bulletins published to the public.

A bulletin is public when it is published and its audiences include the public; it is then
named by its `public_id` (128 random bits), never by its row id. Everything else — a draft, a
bulletin for the mayors or the media only, an unknown or malformed identifier, an exercise
bulletin asked for outside exercise mode — is the same « not found », with the same message
and the same single query, so that nobody can tell a private bulletin from a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import public_link
from crisis.errors import NotFound
from crisis.vocabulary import Audience, BulletinStatus

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{22}")
"""The shape of `secrets.token_urlsafe(16)`: anything else is not looked up at all."""
NOT_PUBLIC = "Aucun communiqué public à cette adresse."
LISTED = 50
"""How many bulletins the public list shows, newest first."""


def aims_at_public(audiences: Iterable[str]) -> bool:
    return Audience.PUBLIC in audiences


def is_public(bulletin: Bulletin) -> bool:
    """Published, and to the public: the only bulletins with a public address."""
    return bulletin.status == BulletinStatus.PUBLISHED and aims_at_public(bulletin.audiences)


def link_of(bulletin: Bulletin, *, base_url: str) -> str:
    """The public page a bulletin's texts may point at: only a bulletin to the public has one
    (before publication, the address it will have); any other gets no link at all."""
    if not aims_at_public(bulletin.audiences):
        return ""
    return public_link(base_url, bulletin.public_id, exercise=bulletin.exercise)


def url_of(bulletin: Bulletin, *, base_url: str) -> str | None:
    """The public page of a bulletin, once it is public; `None` otherwise."""
    return link_of(bulletin, base_url=base_url) if is_public(bulletin) else None


def _shown(bulletin: Bulletin, *, exercise: bool) -> bool:
    return is_public(bulletin) and bulletin.exercise == exercise


async def get(session: AsyncSession, *, public_id: str, exercise: bool = False) -> Bulletin:
    """The public bulletin named `public_id` (an exercise one only in exercise mode), or 404."""
    found: Bulletin | None = None
    if PUBLIC_ID.fullmatch(public_id):
        query = select(Bulletin).where(Bulletin.public_id == public_id)
        found = (await session.exec(query)).first()
    if found is None or not _shown(found, exercise=exercise):
        raise NotFound("bulletin_not_found", NOT_PUBLIC)
    return found


async def listing(
    session: AsyncSession, *, exercise: bool = False, limit: int = LISTED
) -> list[Bulletin]:
    """The public bulletins of one mode, newest first, at most `limit`."""
    query = (
        select(Bulletin)
        .where(Bulletin.status == BulletinStatus.PUBLISHED, Bulletin.exercise == exercise)
        .order_by(col(Bulletin.published_at).desc(), col(Bulletin.id).desc())
    )
    shown = [b for b in (await session.exec(query)).all() if aims_at_public(b.audiences)]
    return shown[:limit]


async def related(
    session: AsyncSession, bulletin: Bulletin
) -> tuple[list[Bulletin], list[Bulletin]]:
    """(the public bulletins it updates or cancels, the public ones that update or cancel it):
    a link on a public page never leads to a private bulletin, nor names one."""
    query = select(Bulletin).where(
        Bulletin.crisis_id == bulletin.crisis_id, Bulletin.status == BulletinStatus.PUBLISHED
    )
    same_crisis = [
        b for b in (await session.exec(query)).all() if _shown(b, exercise=bulletin.exercise)
    ]
    earlier = [b for b in same_crisis if b.id in bulletin.reference_ids]
    later = [b for b in same_crisis if bulletin.id in b.reference_ids]
    return earlier, later
