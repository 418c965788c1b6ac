"""The CIP as the API and the pages show it: plain dicts, personal data per `privacy`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cip import calls, figures, numbers, record, staffing
from crisis.cip.calls import CipCall
from crisis.cip.debrief import CipDebrief
from crisis.cip.faq import FaqItem
from crisis.cip.record import Cip, CipShift
from crisis.cip.rules import CipRules


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def shift_view(shift: CipShift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "user": shift.user_id,
        "person": shift.name,
        "role": shift.role,
        "checked_in_at": _iso(shift.checked_in_at),
        "checked_in_by": shift.checked_in_by,
        "checked_out_at": _iso(shift.checked_out_at),
        "handover_note": shift.handover_note,
    }


def debrief_view(written: CipDebrief) -> dict[str, Any]:
    return {
        "id": written.id,
        "user": written.user_id,
        "person": written.name,
        "hard_calls": written.hard_calls,
        "needs": written.needs,
        "written_at": _iso(written.written_at),
    }


def call_view(call: CipCall, *, callback_numbers: bool) -> dict[str, Any]:
    callback = call.callback_number
    return {
        "id": call.id,
        "received_at": _iso(call.received_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "commune": call.commune,
        "topic": call.topic,
        "question": call.question,
        "answer": call.answer,
        "faq_id": call.faq_id,
        "follow_up": call.follow_up,
        "callback_number": (numbers.shown(callback) if callback_numbers else "(masqué)")
        if callback
        else None,
        "operator": call.operator,
    }


def figures_view(found: figures.Figures) -> dict[str, Any]:
    return {
        "calls": found.calls,
        "per_hour": [{"hour": h, "calls": n} for h, n in found.per_hour],
        "wait_p50_s": found.wait_p50_s,
        "wait_p90_s": found.wait_p90_s,
        "unanswered_calls": found.unanswered_calls,
        "open_follow_ups": found.open_follow_ups,
        "topics": [{"topic": t, "calls": n} for t, n in found.topics],
        "communes": [{"commune": c, "calls": n} for c, n in found.communes],
        "suggestions": [
            {"question": s.question, "asked": s.asked, "topic": s.topic, "communes": s.communes}
            for s in found.suggestions
        ],
    }


def cip_view(
    cip: Cip, shifts: list[CipShift], found: figures.Figures, *, minimum: Mapping[str, int]
) -> dict[str, Any]:
    present = [s for s in shifts if s.checked_out_at is None]
    return {
        "crisis_id": cip.crisis_id,
        "status": cip.state.value,
        "number": cip.number,
        "number_display": numbers.shown(cip.number),
        "ordered_at": _iso(cip.ordered_at),
        "ordered_by": cip.ordered_by,
        "decided_by": cip.decided_by,
        "expected_opening_at": _iso(cip.expected_opening_at),
        "opened_at": _iso(cip.opened_at),
        "opened_by": cip.opened_by,
        "closed_at": _iso(cip.closed_at),
        "closed_by": cip.closed_by,
        "min_staffing": dict(minimum),
        "missing": staffing.gaps(present, minimum=minimum),
        "operators": [shift_view(s) for s in present],
        "shifts": [shift_view(s) for s in shifts],
        "figures": figures_view(found),
    }


async def cip_of(session: AsyncSession, *, crisis_id: int, rules: CipRules) -> dict[str, Any]:
    cip = await record.required(session, crisis_id=crisis_id)
    shifts = await record.shifts(session, crisis_id=crisis_id)
    logged = await calls.for_crisis(session, crisis_id=crisis_id)
    return cip_view(cip, shifts, figures.of(logged), minimum=rules.min_staffing)


def faq_view(item: FaqItem) -> dict[str, Any]:
    e = item.entry
    return {
        "id": e.id,
        "question": e.question,
        "answer": e.answer,
        "communes": e.communes,
        "commune_names": list(item.commune_names),
        "source_bulletin_id": e.source_bulletin_id,
        "status": e.status,
        "to_review": item.to_review,
        "superseded_by": item.superseded_by,
        "author": e.author,
        "approved_by": e.approved_by,
        "approved_at": _iso(e.approved_at),
    }
