"""Inbound replies (Telegram webhook, SMS gateway)."""

from __future__ import annotations

from pydantic import BaseModel


class ReplyOutcome(BaseModel):
    ok: bool
    outcome: str
    reason: str | None
    delivery_id: int | None
