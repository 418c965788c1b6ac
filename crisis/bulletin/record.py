"""The bulletin as a row: what a communicator wrote, where it stands, who approved which text.

Who wrote its text is its `author` and every later editor (`editors`, in the order of their
first edit): none of them may approve or reject it (`crisis.bulletin.workflow`)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from crisis.bulletin.render import Content
from crisis.errors import NotFound
from crisis.vocabulary import BulletinStatus, MsgType, Strategy
from storage.types import UTCDateTime


def new_public_id() -> str:
    """An unguessable identifier for the public pages: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Bulletin(SQLModel, table=True):
    __tablename__ = "bulletin"

    id: int | None = Field(default=None, primary_key=True)
    # The bulletin's name on the public pages: 128 random bits, never the sequential id
    # (`crisis.bulletin.public` serves it only once published to the public).
    public_id: str = Field(
        default_factory=lambda: new_public_id(), max_length=32, unique=True, index=True
    )
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    title: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    audiences: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    channels: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    communes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    template: str | None = Field(default=None, max_length=100)
    variants: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    reference_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    msg_type: str = Field(default=MsgType.ALERT, max_length=10)
    strategy: str = Field(default=Strategy.ALL, max_length=10)
    cascade_minutes: int = 0
    confirm_receipt: bool = False
    x_thread: bool = False
    # {"en" | "falc": {"title", "body"}}: the versions besides French (crisis.vocabulary.Language)
    translations: dict[str, dict[str, str]] = Field(default_factory=dict, sa_type=sa.JSON)
    status: str = Field(default=BulletinStatus.DRAFT, max_length=12, index=True)
    content_hash: str = Field(max_length=64)
    author: str = Field(max_length=64)
    author_id: int | None = None
    # [{"user_id": int | None, "login": str}] of each person who changed the text after the
    # author, once each, kept for good (their words may still be in it).
    editors: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_hash: str | None = Field(default=None, max_length=64)
    rejected_by: str | None = Field(default=None, max_length=64)
    rejected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reject_reason: str | None = Field(default=None, sa_type=sa.Text)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    published_by: str | None = Field(default=None, max_length=64)
    exercise: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def editor_logins(self) -> list[str]:
        return [str(e["login"]) for e in self.editors]

    def wrote(self, actor: Actor) -> bool:
        """Whether `actor` wrote any part of the text: its author or one of its editors."""
        if actor.is_system:
            return False
        return self.is_author(actor) or any(_same(actor, e) for e in self.editors)

    def is_author(self, actor: Actor) -> bool:
        if actor.is_system:
            return False
        if self.author_id is not None:
            return actor.user_id == self.author_id
        return actor.login == self.author

    def add_editor(self, actor: Actor) -> bool:
        """Record `actor` among the editors (unless the system or already a writer); whether
        they were added."""
        if actor.is_system or self.wrote(actor):
            return False
        self.editors = [*self.editors, {"user_id": actor.user_id, "login": actor.login}]
        return True

    def content(self) -> Content:
        assert self.id is None or self.crisis_id is not None
        return Content(
            crisis_id=self.crisis_id,
            title=self.title,
            body=self.body,
            audiences=tuple(self.audiences),
            channels=tuple(self.channels),
            communes=tuple(self.communes),
            variants=dict(self.variants),
            references=tuple(self.reference_ids),
            msg_type=self.msg_type,
            strategy=self.strategy,
            cascade_minutes=self.cascade_minutes,
            confirm_receipt=self.confirm_receipt,
            x_thread=self.x_thread,
            translations={k: dict(v) for k, v in self.translations.items()},
        )


def _same(actor: Actor, editor: dict[str, Any]) -> bool:
    if editor.get("user_id") is not None:
        return bool(actor.user_id == editor["user_id"])
    return actor.login == editor.get("login")


async def get(session: AsyncSession, *, bulletin_id: int, lock: bool = False) -> Bulletin:
    query = select(Bulletin).where(Bulletin.id == bulletin_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    bulletin = (await session.exec(query)).first()
    if bulletin is None:
        raise NotFound("bulletin_not_found", f"Aucun communiqué n° {bulletin_id}.")
    return bulletin


async def listing(session: AsyncSession, *, crisis_id: int) -> list[Bulletin]:
    query = (
        select(Bulletin).where(Bulletin.crisis_id == crisis_id).order_by(col(Bulletin.id).desc())
    )
    return list((await session.exec(query)).all())


async def journaled(
    session: AsyncSession,
    bulletin: Bulletin,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    **extra: object,
) -> Bulletin:
    """Append the bulletin's step to the journal (with `extra` in its payload); the bulletin."""
    payload = {
        "bulletin_id": bulletin.id,
        "title": bulletin.title,
        "status": bulletin.status,
        "msg_type": bulletin.msg_type,
        "references": bulletin.reference_ids,
        "content_hash": bulletin.content_hash,
        "author": bulletin.author,
        "editors": bulletin.editor_logins,
        **extra,
    }
    await journal.append(
        session, actor=actor, action=action, now=now, crisis_id=bulletin.crisis_id, payload=payload
    )
    return bulletin
