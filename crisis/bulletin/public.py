"""What anyone may read without an account: the bulletins published to the public.

A bulletin is public when it is published and its audiences include the public; it is then
named by its `public_id` (128 random bits), never by its row id. Everything else — a draft, a
bulletin for the mayors or the media only, an unknown or malformed identifier, an exercise
bulletin asked for outside exercise mode — is the same « not found », with the same message
and at most one query, so that nobody can tell a private bulletin from a missing one. The
public pages, feed and CAP alerts read them through `crisis.public.reading`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import public_link
from crisis.vocabulary import Audience, BulletinStatus

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{22}")
"""The shape of `secrets.token_urlsafe(16)`: anything else is not looked up at all."""
NOT_PUBLIC = "Aucun communiqué public à cette adresse."


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
