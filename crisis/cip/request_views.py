"""Written requests as the API and the console show them; the requester's address masked for
the roles without need-to-know (`crisis.cip.privacy.sees_requester_address`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contacts.addresses import masked
from crisis.cip.requests import CipRequest, Tally, tally

WITHHELD = "(masqué)"


def status(request: CipRequest, *, now: datetime) -> str:
    """`answered`, `overdue` (open past its deadline), `assigned` or `new`."""
    if request.answered_at is not None:
        return "answered"
    if request.overdue(now):
        return "overdue"
    return "assigned" if request.assigned_to else "new"


STATUS_LABELS: dict[str, str] = {
    "new": "Nouvelle",
    "assigned": "Prise en charge",
    "overdue": "En retard",
    "answered": "Répondue",
}


def request_view(request: CipRequest, *, now: datetime, addresses: bool) -> dict[str, Any]:
    return {
        "id": request.id,
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "status": status(request, now=now),
        "overdue": request.overdue(now),
        "sender": request.sender if addresses else masked("email", request.sender),
        "sender_name": request.sender_name if addresses else WITHHELD,
        "subject": request.subject,
        "body": request.body,
        "assigned_to": request.assigned_to,
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        "answered_by": request.answered_by,
        "answer": request.answer,
    }


def tally_view(found: Tally) -> dict[str, Any]:
    return {
        "received": found.received,
        "answered": found.answered,
        "open": found.open,
        "overdue": found.overdue,
        "open_overdue": found.open_overdue,
        "median_response_minutes": found.median_response_minutes,
    }


def listing_view(found: Sequence[CipRequest], *, now: datetime, addresses: bool) -> dict[str, Any]:
    return {
        "items": [request_view(r, now=now, addresses=addresses) for r in found],
        "figures": tally_view(tally(found, now=now)),
    }
