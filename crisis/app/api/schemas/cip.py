"""Request and response models of the CIP routes (`crisis.app.api.cip`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crisis.app.api.schemas import Timestamp
from crisis.app.api.schemas.requests import RequestModel
from crisis.app.paths import RowRef


class CipOrderIn(RequestModel):
    number: str = Field(max_length=40, description="Numéro unique (numéro français valide).")
    ordered_by: str | None = Field(
        default=None, max_length=200, description="Qui a décidé (défaut : soi)."
    )
    expected_opening_at: datetime | None = Field(
        default=None, description="Ouverture prévue (ISO 8601 avec fuseau)."
    )


class CheckInIn(RequestModel):
    user: RowRef | None = Field(default=None, description="Défaut : soi ; un autre : préfet.")
    role: str = Field(max_length=20, description="head, operator, technician, specialist.")


class CheckOutIn(RequestModel):
    handover_note: str | None = Field(default=None, max_length=4000)


class CallIn(RequestModel):
    received_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    commune: str | None = Field(default=None, max_length=5, description="Code INSEE.")
    topic: str = Field(max_length=20)
    question: str = Field(max_length=4000)
    answer: str | None = Field(default=None, max_length=4000)
    faq_id: RowRef | None = None
    follow_up: bool = False
    callback_number: str | None = Field(default=None, max_length=40)


class DebriefIn(RequestModel):
    hard_calls: str | None = Field(
        default=None, max_length=20000, description="Appels difficiles (2 000 caractères au plus)."
    )
    needs: str | None = Field(
        default=None,
        max_length=20000,
        description="Besoins pour la prochaine fois (2 000 caractères au plus).",
    )


class DebriefView(BaseModel):
    id: int
    user: int
    person: str
    hard_calls: str
    needs: str
    written_at: Timestamp


class DebriefList(BaseModel):
    items: list[DebriefView]


class FaqIn(RequestModel):
    question: str = Field(max_length=1000)
    answer: str = Field(max_length=4000)
    source_bulletin_id: RowRef | None = None
    communes: list[str] = Field(default_factory=list, max_length=800)


class ShiftView(BaseModel):
    id: int
    user: int
    person: str
    role: str
    checked_in_at: Timestamp
    checked_in_by: str
    checked_out_at: Timestamp | None
    handover_note: str | None


class HourCount(BaseModel):
    hour: str
    calls: int


class TopicCount(BaseModel):
    topic: str
    calls: int


class CommuneCount(BaseModel):
    commune: str
    calls: int


class SuggestionView(BaseModel):
    question: str
    asked: int
    topic: str
    communes: list[str]


class CipFiguresView(BaseModel):
    calls: int
    per_hour: list[HourCount]
    wait_p50_s: int | None
    wait_p90_s: int | None
    unanswered_calls: int
    open_follow_ups: int
    topics: list[TopicCount]
    communes: list[CommuneCount]
    suggestions: list[SuggestionView]


class CipView(BaseModel):
    crisis_id: int
    status: str
    number: str
    number_display: str
    ordered_at: Timestamp
    ordered_by: str
    decided_by: str
    expected_opening_at: Timestamp | None
    opened_at: Timestamp | None
    opened_by: str | None
    closed_at: Timestamp | None
    closed_by: str | None
    min_staffing: dict[str, int]
    missing: dict[str, int]
    operators: list[ShiftView]
    shifts: list[ShiftView]
    figures: CipFiguresView


class CallView(BaseModel):
    id: int
    received_at: Timestamp
    answered_at: Timestamp | None
    ended_at: Timestamp | None
    commune: str | None
    topic: str
    question: str
    answer: str | None
    faq_id: int | None
    follow_up: bool
    callback_number: str | None
    operator: str


class FaqView(BaseModel):
    id: int
    question: str
    answer: str
    communes: list[str]
    commune_names: list[str]
    source_bulletin_id: int | None
    status: str
    to_review: bool
    superseded_by: int | None
    author: str
    approved_by: str | None
    approved_at: Timestamp | None


class FaqList(BaseModel):
    items: list[FaqView]
